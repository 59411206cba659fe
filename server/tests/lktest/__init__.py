"""Test support for the server's tests: real services, databases, and a `linktor serve` runner."""
