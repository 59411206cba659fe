"""app ring of the contacts context."""
