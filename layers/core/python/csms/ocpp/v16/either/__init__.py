"""The messages of the actions either side may initiate (DataTransfer): used by both directions, loading neither."""
