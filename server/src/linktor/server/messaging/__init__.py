"""Messaging: canonical messages, the send pipeline (outbox, delivery), attachments."""
