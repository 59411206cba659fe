"""Channels: the tenant's connections to providers, served by adapter plugins."""
