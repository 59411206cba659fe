"""The transactional outbox: rows written with a change, relayed to the bus after commit."""
