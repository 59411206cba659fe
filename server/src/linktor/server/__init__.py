"""Linktor server: the multichannel messaging platform (see DESIGN.md)."""

__version__ = "0.1.0"
