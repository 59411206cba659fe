"""adapters ring of the identity context."""
