"""Lambda event-filtering patterns (the EventBridge pattern syntax) for stream records, matched in process.

The event source mapping's filter criteria decide which records reach the function on AWS; the same patterns
then route each record to the reactions that asked for it, so the two can never disagree. Only the part of the
syntax the reactions use is supported (a test compares it with moto's full EventBridge matcher): a list of
literal values, `{"prefix": ...}`, `{"exists": bool}`; nested objects match nested fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()


class UnsupportedPattern(ValueError):
    pass


def matches(pattern: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """Whether `document` (a stream record as Lambda filters it) matches `pattern`."""
    for name, expected in pattern.items():
        value = document.get(name, _MISSING)
        if isinstance(expected, Mapping):
            # An absent object has absent fields: `{"exists": false}` below it matches.
            if not matches(expected, value if isinstance(value, Mapping) else {}):
                return False
        elif not _matches_any(expected, value):
            return False
    return True


def _matches_any(rules: Sequence[Any], value: Any) -> bool:
    if not isinstance(rules, list) or not rules:
        raise UnsupportedPattern(f"a field's pattern is a non-empty list: {rules!r}")
    return any(_matches_rule(rule, value) for rule in rules)


def _matches_rule(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping):
        if rule.keys() == {"exists"}:
            return (value is not _MISSING) is bool(rule["exists"])
        if rule.keys() == {"prefix"}:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        raise UnsupportedPattern(f"unsupported rule {rule!r}")
    return value is not _MISSING and value == rule
