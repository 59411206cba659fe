"""adapters ring of the channels context."""
