"""The event bus port and its implementations (in-process and NATS JetStream)."""
