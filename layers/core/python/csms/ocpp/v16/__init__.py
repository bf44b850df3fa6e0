"""OCPP 1.6J messages: the action catalog, typed models (enums, datatypes, and each action's request and response,
split by who initiates it: `station/`, `central_system/`, `either/`; see `messages.py`), validation."""
