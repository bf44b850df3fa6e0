"""Reservations end to end: the API's use cases, the effects of a station's answers, the workflows' tasks."""
