"""app ring of the events context."""
