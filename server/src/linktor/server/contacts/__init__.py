"""Contacts and their identities (channel type + address)."""
