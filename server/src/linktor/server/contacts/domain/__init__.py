"""domain ring of the contacts context."""
