"""The start link of a connector: the URL printed on the station as a QR code, which a driver's phone opens to
start charging there through the operator's app (issue 10, identification by QR code).

The app decides what the URL looks like; the CSMS fills in which connector it is. The template names its two
placeholders in braces, e.g. `https://app.example.com/start?cp={chargePointId}&connector={connectorId}`, and
the station identity is percent-encoded wherever it lands (it may hold `&`, `=`, `+` or `:`), so the app reads
back exactly the identity the station connects with.
"""

from __future__ import annotations

from string import Formatter
from urllib.parse import quote

PLACEHOLDERS = frozenset({"chargePointId", "connectorId"})
DEFAULT_START_LINK_TEMPLATE = "https://app.example.invalid/start?cp={chargePointId}&connector={connectorId}"
"""A reserved domain (RFC 2606): nothing printed with it opens a page. Deployments set their app's URL."""


def check_start_link_template(template: str) -> str:
    """The template, if it names both placeholders and nothing else to fill in; ValueError otherwise. Checked
    when the settings are read and when the stack is synthesised: a typo would otherwise be printed on stickers
    that open the wrong page, or the wrong connector."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(template) if name is not None]
    except ValueError as error:  # a lone brace
        raise ValueError(f"not a start link template: {error} (a literal brace is written twice)") from None
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS or spec or conversion:
            field = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"{field} is not a placeholder of a start link: use {{chargePointId}} and {{connectorId}}")
    missing = PLACEHOLDERS - {name for name, _, _ in fields}
    if missing:
        names = " and ".join("{" + name + "}" for name in sorted(missing))
        raise ValueError(f"a start link must name {names}: each sticker belongs to one connector")
    return template


def start_link(template: str, charge_point_id: str, connector_id: int) -> str:
    """The URL of one connector: the station identity percent-encoded, even `/` (`safe=""`)."""
    return template.format(chargePointId=quote(charge_point_id, safe=""), connectorId=connector_id)
