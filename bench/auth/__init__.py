"""Authentication overhead benchmark (see run.py)."""
