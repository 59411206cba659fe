"""adapters ring of the conversations context."""
