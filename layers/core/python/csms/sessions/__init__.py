"""Sessions as drivers live them (issue 10 §2, §3): app sessions bound to their transaction, and the limits that
stop a session by itself (energy, cost, state of charge on the meter values; duration by a workflow timer)."""
