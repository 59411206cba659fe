"""domain ring of the identity context."""
