"""Central-system-initiated calls: the durable outbox, the answers and what they change."""
