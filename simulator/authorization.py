"""What the station knows about idTags on its own: the Local Authorization List (OCPP 1.6 §3.5.2, §5.15)
and the Authorization Cache (§3.5.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocpp.v16.enums import UpdateStatus, UpdateType


@dataclass
class LocalAuthorizationList:
    version: int = 0
    """0 means the list is empty (§5.10); the simulator supports lists, so it never answers -1."""
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    """idTag (upper-cased: IdToken is case-insensitive) -> IdTagInfo (snake_case keys)."""

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        return self.entries.get(id_tag.upper())

    def update(
        self,
        *,
        list_version: int,
        update_type: str,
        authorization_list: Sequence[Mapping[str, Any]],
        max_list_length: int,
        max_send_length: int,
    ) -> UpdateStatus:
        """SendLocalList. A differential update must carry a newer version than the installed list
        (UpdateStatus.VersionMismatch: "less or equal"); an entry without idTagInfo removes the idTag; idTags
        must be unique; a message or a resulting list over the station's limits fails and changes nothing."""
        tags = [entry["id_tag"].upper() for entry in authorization_list]
        if len(tags) != len(set(tags)) or len(tags) > max_send_length:
            return UpdateStatus.failed
        if update_type == UpdateType.differential and list_version <= self.version:
            return UpdateStatus.version_mismatch
        entries = {} if update_type == UpdateType.full else dict(self.entries)
        for tag, entry in zip(tags, authorization_list, strict=True):
            info = entry.get("id_tag_info")
            if info is None:
                entries.pop(tag, None)
            else:
                entries[tag] = dict(info)
        if len(entries) > max_list_length:
            return UpdateStatus.failed
        self.entries = entries
        self.version = list_version if entries else 0  # §5.10: version 0 means the list is empty
        return UpdateStatus.accepted


@dataclass
class AuthorizationCache:
    """IdTagInfo the central system answered lately (Authorize, StartTransaction)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def remember(self, id_tag: str, info: Mapping[str, Any]) -> None:
        self.entries[id_tag.upper()] = dict(info)

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        return self.entries.get(id_tag.upper())

    def clear(self) -> None:
        self.entries.clear()
