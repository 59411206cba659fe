"""Encryption of secrets at rest (channel credentials, webhook signing secrets)."""
