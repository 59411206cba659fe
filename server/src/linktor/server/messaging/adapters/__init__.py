"""adapters ring of the messaging context."""
