"""api ring of the messaging context."""
