"""OCPP-J protocol core: frames, errors, the action registry and the 1.6 messages. No AWS here."""
