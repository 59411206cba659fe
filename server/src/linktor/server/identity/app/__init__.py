"""app ring of the identity context."""
