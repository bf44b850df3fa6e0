"""What JSON allows but no message this CSMS takes can hold, checked once for stations and operators alike.

Nesting far deeper than any schema, strings that are not Unicode text (a lone UTF-16 surrogate such as
"\\ud800", which RFC 7493 §2.1 forbids and nothing can encode), integers with more digits than DynamoDB
keeps. Walked without recursion, so no document can exhaust the stack.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

MAX_NESTING = 32
"""The deepest 1.6 payload (SetChargingProfile) nests 5 levels inside its frame, operator bodies fewer."""
MAX_INTEGER_DIGITS = 38
"""DynamoDB keeps numbers of at most 38 digits: a larger integer cannot be a value the CSMS keeps."""


class Problem(Enum):
    TOO_DEEP = "nested more than 32 levels deep"
    NOT_TEXT = "holds a string that is not valid Unicode text"
    INTEGER_TOO_LARGE = "holds an integer of more than 38 digits"


def is_text(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def find_problem(document: Any) -> Problem | None:
    """The first reason `document` (as json.loads gave it) cannot be taken, or None."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not is_text(value):
                return Problem.NOT_TEXT
        elif type(value) is int:
            if len(str(abs(value))) > MAX_INTEGER_DIGITS:
                return Problem.INTEGER_TOO_LARGE
        elif isinstance(value, dict | list):
            if depth >= MAX_NESTING:
                return Problem.TOO_DEEP
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    pending.append((key, depth + 1))
                pending.append((item, depth + 1))
    return None
