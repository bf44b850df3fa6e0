"""The composition root: builds the AWS adapters once per Lambda instance, on first use.

Each adapter is imported by the property that builds it, so a function loads only those it uses (the
authorizer reads stations, billing neither commands nor gauges): its cold start pays for nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import boto3

from csms.domain.clock import Clock, SystemClock
from csms.runtime.settings import Settings, get_settings

if TYPE_CHECKING:
    from csms.adapters.connections import StationConnections
    from csms.adapters.dynamodb.cdrs import CdrRepository
    from csms.adapters.dynamodb.commands import CommandRepository
    from csms.adapters.dynamodb.gauges import GaugeRepository
    from csms.adapters.dynamodb.id_tags import IdTagRepository
    from csms.adapters.dynamodb.load_control import LoadControlRepository
    from csms.adapters.dynamodb.reservations import ReservationRepository
    from csms.adapters.dynamodb.sessions import AppSessionRepository
    from csms.adapters.dynamodb.sites import SiteRepository
    from csms.adapters.dynamodb.station_config import StationConfigRepository
    from csms.adapters.dynamodb.station_counts import StationCountRepository
    from csms.adapters.dynamodb.station_records import StationRecordRepository
    from csms.adapters.dynamodb.stations import StationRepository
    from csms.adapters.dynamodb.tariffs import TariffRepository
    from csms.adapters.dynamodb.transactions import MeterValueRepository, TransactionRepository
    from csms.adapters.events import EventPublisher
    from csms.adapters.workflows import WorkflowCallbacks


@lru_cache(maxsize=1)
def aws_session() -> boto3.session.Session:
    """The one boto3 session of this process (the benchmark hooks its events to count AWS requests)."""
    return boto3.session.Session()


@dataclass
class Services:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    """The one source of the current time (tests give a clock they move by hand)."""

    @cached_property
    def table(self) -> Any:
        return aws_session().resource("dynamodb").Table(self.settings.table_name)

    @cached_property
    def stations(self) -> StationRepository:
        from csms.adapters.dynamodb.stations import StationRepository

        return StationRepository(self.table)

    @cached_property
    def id_tags(self) -> IdTagRepository:
        from csms.adapters.dynamodb.id_tags import IdTagRepository

        return IdTagRepository(self.table)

    @cached_property
    def transactions(self) -> TransactionRepository:
        from csms.adapters.dynamodb.transactions import TransactionRepository

        return TransactionRepository(self.table)

    @cached_property
    def meter_values(self) -> MeterValueRepository:
        from csms.adapters.dynamodb.transactions import MeterValueRepository

        return MeterValueRepository(self.table)

    @cached_property
    def station_records(self) -> StationRecordRepository:
        from csms.adapters.dynamodb.station_records import StationRecordRepository

        return StationRecordRepository(self.table)

    @cached_property
    def gauges(self) -> GaugeRepository:
        from csms.adapters.dynamodb.gauges import GaugeRepository

        return GaugeRepository(self.table)

    @cached_property
    def station_counts(self) -> StationCountRepository:
        from csms.adapters.dynamodb.station_counts import StationCountRepository

        return StationCountRepository(self.table)

    @cached_property
    def sites(self) -> SiteRepository:
        from csms.adapters.dynamodb.sites import SiteRepository

        return SiteRepository(self.table)

    @cached_property
    def load_control(self) -> LoadControlRepository:
        from csms.adapters.dynamodb.load_control import LoadControlRepository

        return LoadControlRepository(self.table)

    @cached_property
    def station_config(self) -> StationConfigRepository:
        from csms.adapters.dynamodb.station_config import StationConfigRepository

        return StationConfigRepository(self.table)

    @cached_property
    def app_sessions(self) -> AppSessionRepository:
        from csms.adapters.dynamodb.sessions import AppSessionRepository

        return AppSessionRepository(self.table)

    @cached_property
    def commands(self) -> CommandRepository:
        from csms.adapters.dynamodb.commands import CommandRepository

        return CommandRepository(self.table)

    @cached_property
    def reservations(self) -> ReservationRepository:
        from csms.adapters.dynamodb.reservations import ReservationRepository

        return ReservationRepository(self.table)

    @cached_property
    def tariffs(self) -> TariffRepository:
        from csms.adapters.dynamodb.tariffs import TariffRepository

        return TariffRepository(self.table)

    @cached_property
    def cdrs(self) -> CdrRepository:
        from csms.adapters.dynamodb.cdrs import CdrRepository

        return CdrRepository(self.table)

    @cached_property
    def step_functions(self) -> Any:
        """The Step Functions client: starts and stops workflow executions."""
        return aws_session().client("stepfunctions")

    @cached_property
    def events(self) -> EventPublisher:
        from csms.adapters.events import EventPublisher

        return EventPublisher(aws_session(), self.settings.event_bus_name)

    @cached_property
    def sqs(self) -> Any:
        """The SQS client: a queue consumer sets when a failed message is tried again."""
        return aws_session().client("sqs")

    @cached_property
    def workflows(self) -> WorkflowCallbacks:
        from csms.adapters.workflows import WorkflowCallbacks

        return WorkflowCallbacks(aws_session())

    @cached_property
    def connections(self) -> StationConnections:
        from csms.adapters.connections import StationConnections

        return StationConnections(aws_session(), self.settings.connections_endpoint_url)


@lru_cache(maxsize=1)
def get_services() -> Services:
    return Services(get_settings())
