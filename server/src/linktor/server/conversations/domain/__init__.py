"""domain ring of the conversations context."""
