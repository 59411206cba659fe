"""Infrastructure shared by the bounded contexts: database, event bus, cache and rate limiter.

Each has a port (a Protocol the use cases depend on) and two implementations: embedded
(in-process, zero configuration) and scaled (PostgreSQL, NATS JetStream, Redis).
"""
