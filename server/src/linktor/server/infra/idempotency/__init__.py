"""Idempotency keys (AIP-155): a retried request returns the first result."""
