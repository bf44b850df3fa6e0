"""How API Gateway turns a Lambda REQUEST authorizer's outcome into a handshake decision.

- the function raised with the message "Unauthorized": 401;
- it raised anything else, timed out, or returned something that is not a valid policy response: 500;
- the policy denies `execute-api:Invoke` on the $connect method ARN, or does not allow it: 403;
- it allows it: the connection proceeds, and `{"principalId": ..., **context}` becomes
  `requestContext.authorizer` of every event of that connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any


class HandshakeRefused(Exception):
    """The opening handshake ends with this HTTP status instead of 101."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


UNAUTHORIZED_MESSAGE = "Unauthorized"
"""The exception message API Gateway maps to 401 (the Lambda error's `errorMessage`)."""


def refusal_for_exception(exc: BaseException) -> HandshakeRefused:
    if str(exc) == UNAUTHORIZED_MESSAGE:
        return HandshakeRefused(HTTPStatus.UNAUTHORIZED, "Unauthorized")
    return internal_server_error()


def authorizer_context(result: Any, method_arn: str) -> dict[str, Any]:
    """The connection's `requestContext.authorizer`, or HandshakeRefused."""
    if not isinstance(result, dict) or not isinstance(result.get("principalId"), str):
        raise internal_server_error()
    context = result.get("context") or {}
    # API Gateway accepts only string, number and boolean values in the context map.
    if not isinstance(context, dict) or not all(
        isinstance(value, (str, int, float, bool)) for value in context.values()
    ):
        raise internal_server_error()
    statements = _statements(result.get("policyDocument"))
    matching = [
        statement
        for statement in statements
        if _matches(statement.get("Action"), "execute-api:Invoke", ignore_case=True)
        and _matches(statement.get("Resource"), method_arn)
    ]
    if any(s.get("Effect") == "Deny" for s in matching) or not any(s.get("Effect") == "Allow" for s in matching):
        raise HandshakeRefused(HTTPStatus.FORBIDDEN, "Forbidden")
    return {"principalId": result["principalId"], **context}


def internal_server_error() -> HandshakeRefused:
    """A failed or invalid authorizer or $connect invocation."""
    return HandshakeRefused(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")


def _statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        raise internal_server_error()
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise internal_server_error()
    return statements


def _matches(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    """IAM string matching: `*` any run of characters, `?` any one; a list matches if one does.

    Action names are case-insensitive in IAM, resource ARNs are not.
    """
    candidates: Iterable[Any] = patterns if isinstance(patterns, list) else [patterns]
    for pattern in candidates:
        if isinstance(pattern, str):
            regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
            if re.fullmatch(regex, value, flags=re.DOTALL | (re.IGNORECASE if ignore_case else 0)):
                return True
    return False
