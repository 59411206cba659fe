"""Media storage: where attachment bytes live (the database keeps their metadata)."""
