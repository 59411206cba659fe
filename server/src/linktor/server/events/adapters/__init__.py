"""adapters ring of the events context."""
