"""OCPP-J RPC frames (OCPP-J 1.6 §4): CALL, CALLRESULT and CALLERROR, parsed and built.

A frame is a JSON array: [2, messageId, action, payload] | [3, messageId, payload]
| [4, messageId, errorCode, errorDescription, errorDetails].
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

from csms.ocpp.errors import (
    ErrorCode,
    FormationViolationError,
    OcppError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from csms.ocpp.json_limits import Problem, find_problem, is_text

MAX_MESSAGE_ID_LENGTH = 36  # OCPP-J §4.1.3: the message id is at most 36 characters
UNKNOWN_MESSAGE_ID = "-1"  # answer id when the frame is too broken to read one (OCPP 2.0.1 J §4.2.3 practice)


class MessageType(IntEnum):
    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


@dataclass(frozen=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return _dumps([MessageType.CALL, self.message_id, self.action, self.payload])


@dataclass(frozen=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return _dumps([MessageType.CALL_RESULT, self.message_id, self.payload])


@dataclass(frozen=True)
class CallError:
    message_id: str
    code: ErrorCode
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, message_id: str, error: OcppError) -> CallError:
        return cls(message_id, error.code, error.description, error.details)

    def to_json(self) -> str:
        return _dumps([MessageType.CALL_ERROR, self.message_id, self.code, self.description, self.details])


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A frame that cannot be taken as OCPP-J; carries what to answer with, and to which message id.

    A broken CALLRESULT or CALLERROR is not answered (`answerable` False): OCPP-J §4.1.1 never replies
    to a response, and the station would not expect one.
    """

    def __init__(self, message_id: str, error: OcppError, *, answerable: bool = True):
        self.message_id = message_id
        self.error = error
        self.answerable = answerable
        super().__init__(str(error))

    def to_call_error(self) -> CallError:
        return CallError.from_exception(self.message_id, self.error)


def parse_frame(text: str | bytes) -> Frame:
    """Parse one WebSocket message into a frame, or raise FrameError saying how to answer."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FrameError(UNKNOWN_MESSAGE_ID, FormationViolationError("Message is not valid JSON")) from None
    if not isinstance(message, list) or len(message) < 2:
        raise FrameError(UNKNOWN_MESSAGE_ID, FormationViolationError("Message is not an OCPP-J array frame"))
    message_type, message_id = message[0], message[1]
    is_response = type(message_type) is int and message_type in (MessageType.CALL_RESULT, MessageType.CALL_ERROR)
    if not isinstance(message_id, str) or not message_id or len(message_id) > MAX_MESSAGE_ID_LENGTH or not is_text(message_id):
        raise FrameError(
            UNKNOWN_MESSAGE_ID,
            FormationViolationError(f"Message id must be a string of 1 to {MAX_MESSAGE_ID_LENGTH} characters"),
            answerable=not is_response,
        )
    _screen(message, message_id, answerable=not is_response)
    if message_type == MessageType.CALL and type(message_type) is int:
        return _parse_call(message, message_id)
    if message_type == MessageType.CALL_RESULT and type(message_type) is int:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(
                message_id, FormationViolationError("CALLRESULT must be [3, messageId, {payload}]"), answerable=False
            )
        return CallResult(message_id, message[2])
    if message_type == MessageType.CALL_ERROR and type(message_type) is int:
        return _parse_call_error(message, message_id)
    raise FrameError(message_id, ProtocolError(f"Unknown message type id {message_type!r}"))


def _screen(message: list[Any], message_id: str, *, answerable: bool) -> None:
    problem = find_problem(message)
    if problem is None:
        return
    # An integer is the right JSON type with a value out of range; the rest breaks the PDU's structure.
    error_type = PropertyConstraintViolationError if problem is Problem.INTEGER_TOO_LARGE else FormationViolationError
    raise FrameError(message_id, error_type(f"Message {problem.value}"), answerable=answerable)


def _parse_call(message: list[Any], message_id: str) -> Call:
    if len(message) != 4:
        raise FrameError(message_id, FormationViolationError("CALL must be [2, messageId, action, {payload}]"))
    action, payload = message[2], message[3]
    if not isinstance(action, str) or not action:
        raise FrameError(message_id, FormationViolationError("CALL action must be a non-empty string"))
    if not isinstance(payload, dict):
        raise FrameError(message_id, FormationViolationError("CALL payload must be a JSON object"))
    return Call(message_id, action, payload)


def _parse_call_error(message: list[Any], message_id: str) -> CallError:
    if len(message) != 5 or not isinstance(message[2], str) or not isinstance(message[3], str):
        raise FrameError(
            message_id,
            FormationViolationError("CALLERROR must be [4, messageId, errorCode, errorDescription, {errorDetails}]"),
            answerable=False,
        )
    try:
        code = ErrorCode(message[2])
    except ValueError:
        code = ErrorCode.GENERIC_ERROR  # a station's own code: keep the frame, file it as generic
    details = message[4] if isinstance(message[4], dict) else {"errorDetails": message[4]}
    return CallError(message_id, code, message[3], details)


def _dumps(frame: list[Any]) -> str:
    # Payloads read back from DynamoDB hold Decimals; on the wire they are JSON numbers.
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=decimal_to_json)


def decimal_to_json(value: Any) -> Any:
    """json.dumps `default` for Decimals: integers stay integers, the rest keeps its digits as a number."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def plain_json(value: Any) -> Any:
    """A JSON-shaped value with Decimals (as DynamoDB reads numbers back) as plain JSON numbers, never strings."""
    return json.loads(json.dumps(value, default=decimal_to_json))
