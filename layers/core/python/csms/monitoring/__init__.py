"""What operations watch that no single request reports: network-wide gauges."""
