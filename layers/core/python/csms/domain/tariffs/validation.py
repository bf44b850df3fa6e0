"""A refused tariff names each field at fault by its OCPI path, e.g. `elements[0].price_components[1].type`.

The operator API answers 400 with these (path, message) pairs; the path is written the way the OCPI
documents and JSON tools write it (dots between fields, [i] for list items) so an operator can find
the field in the body they sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .model import Tariff, _FieldFault


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str
    message: str


class TariffRejected(ValueError):
    """A tariff body that is not a valid OCPI 2.2.1 Tariff; `errors` says which fields and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path or '(body)'}: {e.message}" for e in errors))
        self.errors = errors


def ocpi_path(location: tuple[int | str, ...]) -> str:
    """('elements', 0, 'price_components', 1, 'type') -> 'elements[0].price_components[1].type'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def tariff_errors(error: ValidationError) -> list[FieldError]:
    """Each problem of a pydantic ValidationError as (OCPI path, message), in the order found."""
    found: list[FieldError] = []
    for detail in error.errors(include_url=False):
        location = tuple(detail["loc"])
        message = str(detail["msg"])
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, _FieldFault):
            location += tuple(cause.field.split("."))
            message = str(cause)
        elif detail["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif detail["type"] == "extra_forbidden":
            message = "unknown field (not part of the OCPI 2.2.1 Tariff object)"
        found.append(FieldError(ocpi_path(location), message))
    return found


def parse_tariff(body: Any) -> Tariff:
    """The Tariff a decoded JSON body describes, or TariffRejected naming every field at fault."""
    try:
        return Tariff.model_validate(body)
    except ValidationError as error:
        raise TariffRejected(tariff_errors(error)) from None
