"""Splitting a SendLocalList that does not fit one WebSocket frame (API Gateway: 32 KB per frame)."""

from __future__ import annotations

import json
from typing import Any

MAX_FRAME_BYTES = 32 * 1024
_FRAME_OVERHEAD = len('[2,"00000000-0000-0000-0000-000000000000","SendLocalList",]')


class ListTooLarge(ValueError):
    pass


def split_local_list(payload: dict[str, Any], *, max_frame_bytes: int = MAX_FRAME_BYTES) -> list[dict[str, Any]]:
    """The SendLocalList payloads to send in order, each in one frame.

    The first keeps the requested updateType (a Full update replaces the list, OCPP 1.6 §5.15); the rest are
    Differential updates adding the remaining entries. Versions must grow with each update (a station answers
    VersionMismatch otherwise), so the parts count up to the requested listVersion, which the station ends on.
    """
    entries = payload.get("localAuthorizationList") or []
    head = {key: value for key, value in payload.items() if key != "localAuthorizationList"}
    budget = max_frame_bytes - _FRAME_OVERHEAD - len(_encode({**head, "localAuthorizationList": []}))
    chunks: list[list[dict[str, Any]]] = [[]]
    used = 0
    for entry in entries:
        size = len(_encode(entry)) + 1  # the comma
        if size > budget:
            raise ListTooLarge(f"Entry for idTag {entry.get('idTag')!r} alone exceeds one frame")
        if used + size > budget and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(entry)
        used += size
    if len(chunks) == 1:
        return [payload]
    final_version = payload["listVersion"]
    if final_version < len(chunks):
        raise ListTooLarge(
            f"This list needs {len(chunks)} updates of one frame each, numbered up to listVersion; "
            f"listVersion must be at least {len(chunks)}"
        )
    return [
        {
            "listVersion": final_version - len(chunks) + 1 + index,
            "updateType": payload["updateType"] if index == 0 else "Differential",
            "localAuthorizationList": chunk,
        }
        for index, chunk in enumerate(chunks)
    ]


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
