"""Embedded `linktor serve`: cold start to ready, and idle RSS."""
