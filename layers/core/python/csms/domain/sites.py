"""Sites: stations that share one grid connection, and the circuits inside it (issue 11 §1).

A site's connection has a current limit per phase (its main fuse); circuits (a sub-distribution, a cable run)
have their own, which applies within the site's; a station and a connector may have a maximum of their own. The
CSMS shares the site's capacity among the sessions in progress (allocation.py) so that no limit is ever exceeded.

Per-connector settings are a flat list, `connectors: [{chargePointId, connectorId, maxCurrentA?, phases?}]`, beside
the site's list of station ids rather than nested in it: only the connectors that differ from the defaults are
named, each entry is validated and reported with its own path (`connectors[2].phases`), and connector 0 means the
station as a whole, as in OCPP (§4.9; a ChargePointMaxProfile goes on connector 0): its `maxCurrentA` is the
station's maximum over all its connectors, its `phases` the default of its connectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from csms.domain.measured_current import MIN_CHARGING_CURRENT_A
from csms.domain.stations import STATION_CONNECTOR

DEFAULT_SAFE_CURRENT_A = MIN_CHARGING_CURRENT_A
"""What a session may draw before the CSMS's profile reaches its station (the TxDefaultProfile sent at boot):
the least a car charges with, so a session that starts while the CSMS cannot reach the station starts low."""

Phases = Literal[1, 3]
"""A supply is single- or three-phase."""


class SiteRejected(ValueError):
    """A site definition the CSMS cannot take: `location` names the field (`circuits[0].chargePoints[1]`)."""

    def __init__(self, location: str, message: str):
        super().__init__(message)
        self.location = location


class MembershipConflict(Exception):
    """A station named twice where it may be once: in two circuits of a site, or in two sites."""

    def __init__(self, charge_point_id: str, message: str):
        super().__init__(message)
        self.charge_point_id = charge_point_id


@dataclass(frozen=True, kw_only=True)
class Circuit:
    circuit_id: str
    max_current_a: Decimal
    """Per phase, like the site's; applies within the site's."""
    charge_point_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ConnectorSetting:
    """A connector's own limits; connector 0 is the station as a whole (its maximum over all its connectors)."""

    charge_point_id: str
    connector_id: int
    max_current_a: Decimal | None = None
    phases: Phases | None = None
    """1: a single-phase socket or car on a three-phase site."""


@dataclass(frozen=True, kw_only=True)
class Site:
    site_id: str
    name: str
    max_current_a: Decimal
    """The grid connection's limit, amperes per phase."""
    phases: Phases
    voltage_v: Decimal
    """Phase-to-neutral (230 in Europe): W = A × V × phases."""
    charge_point_ids: tuple[str, ...]
    circuits: tuple[Circuit, ...] = ()
    connectors: tuple[ConnectorSetting, ...] = ()
    safe_current_a: Decimal = DEFAULT_SAFE_CURRENT_A
    version: int = 0
    """Counts the site's definitions: each PUT stores the next one."""
    updated_at: datetime | None = None
    _circuit_of: dict[str, Circuit] = field(init=False, repr=False, compare=False)
    _settings: dict[tuple[str, int], ConnectorSetting] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        circuits = {cp: circuit for circuit in self.circuits for cp in circuit.charge_point_ids}
        settings = {(setting.charge_point_id, setting.connector_id): setting for setting in self.connectors}
        object.__setattr__(self, "_circuit_of", circuits)
        object.__setattr__(self, "_settings", settings)

    def circuit_of(self, charge_point_id: str) -> Circuit | None:
        return self._circuit_of.get(charge_point_id)

    def station_max_current_a(self, charge_point_id: str) -> Decimal | None:
        """The station's own maximum over all its connectors (connector 0's setting), if it has one."""
        setting = self._settings.get((charge_point_id, STATION_CONNECTOR))
        return setting.max_current_a if setting else None

    def connector_max_current_a(self, charge_point_id: str, connector_id: int) -> Decimal | None:
        """The connector's own maximum, if it has one (its station's applies to all its connectors together)."""
        setting = self._settings.get((charge_point_id, connector_id))
        return setting.max_current_a if setting else None

    def connector_phases(self, charge_point_id: str, connector_id: int) -> Phases:
        """The phases a session on the connector draws on: its own setting, else its station's, else the site's."""
        for key in ((charge_point_id, connector_id), (charge_point_id, STATION_CONNECTOR)):
            setting = self._settings.get(key)
            if setting is not None and setting.phases is not None:
                return setting.phases
        return self.phases


def validate_site(site: Site) -> None:
    """What the schema cannot say about a site: raises SiteRejected (naming the field) or MembershipConflict.

    The site's maximum and each circuit's, station's and connector's are at least MIN_CHARGING_CURRENT_A (the
    schema's bounds): a limit that cannot carry one session is a typing error, not a site.
    """
    members = set()
    for index, charge_point_id in enumerate(site.charge_point_ids):
        if charge_point_id in members:
            raise SiteRejected(f"chargePoints[{index}]", f"charge point {charge_point_id} is listed twice")
        members.add(charge_point_id)
    if site.safe_current_a and not MIN_CHARGING_CURRENT_A <= site.safe_current_a <= site.max_current_a:
        raise SiteRejected(
            "safeCurrentA",
            f"must be 0 (sessions start paused) or from {MIN_CHARGING_CURRENT_A} A to the site's maxCurrentA "
            f"({site.max_current_a} A): below {MIN_CHARGING_CURRENT_A} A a car does not charge",
        )
    _validate_circuits(site.circuits, members)
    _validate_connectors(site, members)


def _validate_circuits(circuits: Iterable[Circuit], members: set[str]) -> None:
    circuit_ids: set[str] = set()
    circuit_of: dict[str, str] = {}
    for index, circuit in enumerate(circuits):
        if circuit.circuit_id in circuit_ids:
            raise SiteRejected(f"circuits[{index}].circuitId", f"circuit {circuit.circuit_id} is defined twice")
        circuit_ids.add(circuit.circuit_id)
        for position, charge_point_id in enumerate(circuit.charge_point_ids):
            location = f"circuits[{index}].chargePoints[{position}]"
            if charge_point_id not in members:
                raise SiteRejected(location, f"charge point {charge_point_id} is not in the site's chargePoints")
            other = circuit_of.get(charge_point_id)
            if other is not None:
                raise MembershipConflict(
                    charge_point_id, f"Charge point {charge_point_id} is in two circuits ({other} and {circuit.circuit_id})"
                )
            circuit_of[charge_point_id] = circuit.circuit_id


def _validate_connectors(site: Site, members: set[str]) -> None:
    seen: set[tuple[str, int]] = set()
    for index, setting in enumerate(site.connectors):
        if setting.charge_point_id not in members:
            raise SiteRejected(
                f"connectors[{index}].chargePointId", f"charge point {setting.charge_point_id} is not in the site's chargePoints"
            )
        key = (setting.charge_point_id, setting.connector_id)
        if key in seen:
            raise SiteRejected(
                f"connectors[{index}].connectorId",
                f"connector {setting.connector_id} of {setting.charge_point_id} is set twice",
            )
        seen.add(key)
        if setting.phases is not None and setting.phases > site.phases:
            raise SiteRejected(
                f"connectors[{index}].phases", f"{setting.phases} phases on a site of {site.phases}: at most {site.phases}"
            )
