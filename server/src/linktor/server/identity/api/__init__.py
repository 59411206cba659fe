"""api ring of the identity context."""
