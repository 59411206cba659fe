"""domain ring of the events context."""
