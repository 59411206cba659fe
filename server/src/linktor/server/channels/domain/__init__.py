"""domain ring of the channels context."""
