"""api ring of the conversations context."""
