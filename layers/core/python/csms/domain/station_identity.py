"""What a station identity may be: one rule, followed by the CloudFront Function, the local gateway, the
authorizer and the operator API alike.

OCPP-J puts the identity last in the station's URL and the CSMS keys the station's data by it, so it must
survive a URL, a DynamoDB key and an API path unchanged: printable ASCII (0x21-0x7E) without the characters
URLs and paths give a meaning (`/ ? # % \\`), at most 48 characters, the identifierString length later OCPP
versions prescribe (OCPP 2.0.1 Part 4, 3.2: "no more than 48 characters"). Anything else (a space, a control
character, an emoji, invalid UTF-8, `..%2F..`) is refused at the handshake, never stored.
"""

from __future__ import annotations

import re

MAX_LENGTH = 48
FORBIDDEN = "/?#%\\"
ALLOWED_CHARACTERS = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) not in FORBIDDEN)



def _character_class(characters: str) -> str:
    """A regular-expression class of `characters` as ranges of code points, written alike for Python's `re`,
    JavaScript's RegExp and OpenAPI's ECMA-262 patterns (every character escaped as \\xNN)."""
    codes = sorted(map(ord, characters))
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[" + "".join(f"\\x{low:02x}" + (f"-\\x{high:02x}" if high > low else "") for low, high in ranges) + "]"


PATTERN = f"^{_character_class(ALLOWED_CHARACTERS)}{{1,{MAX_LENGTH}}}$"
_MATCHER = re.compile(PATTERN)


def is_valid_station_id(identity: str) -> bool:
    return _MATCHER.fullmatch(identity) is not None
