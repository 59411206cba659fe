"""app ring of the channels context."""
