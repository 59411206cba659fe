"""api ring of the events context."""
