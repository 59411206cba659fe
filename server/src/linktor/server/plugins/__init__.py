"""The adapter plugin host: launches, supervises and connects to channel adapters."""
