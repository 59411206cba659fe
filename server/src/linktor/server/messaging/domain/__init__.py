"""domain ring of the messaging context."""
