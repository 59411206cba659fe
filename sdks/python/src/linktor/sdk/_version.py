"""The SDK's own version (independent of the server's and of linktor-proto's)."""

__version__ = "0.1.0"
