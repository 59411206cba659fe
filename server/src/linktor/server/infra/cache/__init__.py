"""Rate limiter and cache ports with in-memory and Redis implementations."""
