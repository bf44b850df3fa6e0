"""Reactions to the table's changes (its stream, NEW_AND_OLD_IMAGES): what happens because an item changed.

Handlers on the station path and the operator API only write state; what follows from a change (a workflow
started, an event put on the bus) is done here, from the stream, so it is retried until done and never slows
the write that caused it. See stream.py.
"""
