"""DynamoDB stores numbers as Decimal and refuses floats: convert JSON-shaped values on the way in."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from csms.ocpp.frames import decimal_to_json


def to_item_value(value: Any) -> Any:
    """A JSON-shaped value (floats, or Decimals read back) as DynamoDB accepts it: Decimals, as written in JSON."""
    return json.loads(json.dumps(value, default=decimal_to_json), parse_float=Decimal)
