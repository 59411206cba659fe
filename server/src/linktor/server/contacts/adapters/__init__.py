"""adapters ring of the contacts context."""
