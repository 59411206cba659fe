"""The per-tenant event log with sequence numbers, and real-time streams."""
