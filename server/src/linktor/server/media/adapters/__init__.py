"""SQL implementations of the media ports."""
