"""app ring of the messaging context."""
