"""api ring of the channels context."""
