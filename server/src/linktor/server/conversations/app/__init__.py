"""app ring of the conversations context."""
