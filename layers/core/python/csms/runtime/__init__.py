"""Settings, the composition root and observability: what every Lambda entry point shares."""
