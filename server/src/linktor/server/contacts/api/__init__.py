"""api ring of the contacts context."""
