"""Domain rules: pure functions over plain values, no AWS."""
