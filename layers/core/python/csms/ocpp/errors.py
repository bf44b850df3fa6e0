"""The OCPP-J error hierarchy, one class per CallError code (OCPP-J 1.6 §4.2.3).

Raising one of these anywhere below a dispatcher turns into a CALLERROR frame with that code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    # Spelled "FormationViolation" in OCPP-J 1.6 (2.0 renamed it FormatViolation).
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    # Misspelled in the specification itself; the wire value must keep the single "r".
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


class OcppError(Exception):
    """Base of all errors that travel as a CALLERROR."""

    code: ErrorCode = ErrorCode.GENERIC_ERROR
    default_description = "Any other error not covered by the other codes"

    def __init__(self, description: str | None = None, details: dict[str, Any] | None = None):
        self.description = description or self.default_description
        self.details = details or {}
        super().__init__(f"{self.code}: {self.description}")


class ActionNotImplementedError(OcppError):
    code = ErrorCode.NOT_IMPLEMENTED
    default_description = "Requested Action is not known by receiver"


class ActionNotSupportedError(OcppError):
    code = ErrorCode.NOT_SUPPORTED
    default_description = "Requested Action is recognized but not supported by the receiver"


class InternalError(OcppError):
    code = ErrorCode.INTERNAL_ERROR
    default_description = "An internal error occurred and the receiver was not able to process the requested Action"


class ProtocolError(OcppError):
    code = ErrorCode.PROTOCOL_ERROR
    default_description = "Payload for Action is incomplete"


class SecurityError(OcppError):
    code = ErrorCode.SECURITY_ERROR
    default_description = "A security issue prevented the receiver from completing the Action"


class FormationViolationError(OcppError):
    code = ErrorCode.FORMATION_VIOLATION
    default_description = "Payload for Action is syntactically incorrect or not conform the PDU structure for Action"


class PropertyConstraintViolationError(OcppError):
    code = ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    default_description = "Payload is syntactically correct but at least one field contains an invalid value"


class OccurenceConstraintViolationError(OcppError):
    code = ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    default_description = (
        "Payload for Action is syntactically correct but at least one of the fields violates occurence constraints"
    )


class TypeConstraintViolationError(OcppError):
    code = ErrorCode.TYPE_CONSTRAINT_VIOLATION
    default_description = (
        "Payload for Action is syntactically correct but at least one of the fields violates data type constraints"
    )


class GenericError(OcppError):
    code = ErrorCode.GENERIC_ERROR


ERROR_BY_CODE: dict[ErrorCode, type[OcppError]] = {
    cls.code: cls
    for cls in (
        ActionNotImplementedError,
        ActionNotSupportedError,
        InternalError,
        ProtocolError,
        SecurityError,
        FormationViolationError,
        PropertyConstraintViolationError,
        OccurenceConstraintViolationError,
        TypeConstraintViolationError,
        GenericError,
    )
}
