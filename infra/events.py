"""The CSMS event bus: charge detail records for billing partners, session notifications for drivers' apps.

Delivery is at least once (every event carries its own eventId to deduplicate) and the archive allows a
replay. Partners subscribe either with an AWS account (a rule forwarding to their bus) or without one (an
API destination POSTing to their HTTPS endpoint). Whatever a target fails to take ends in the dead-letter
queue, which raises an alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Duration, SecretValue, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from csms.events.catalog import Source
from infra.config import PartnerApiDestination, PartnerEventBus

DEAD_LETTER_RETENTION = Duration.days(14)
MAX_EVENT_AGE = Duration.hours(24)
RETRY_ATTEMPTS = 185  # EventBridge's maximum: keep retrying for the whole event age before dead-lettering


class CsmsEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        archive_retention: Duration | None,
        partner_event_buses: Sequence[PartnerEventBus] = (),
        partner_api_destinations: Sequence[PartnerApiDestination] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bus = events.EventBus(self, "Bus", description="CSMS: charge detail records and session notifications")
        self.archive = self.bus.archive(
            "Archive",
            description="Every CSMS event, for replay to a partner that missed some",
            # Everything published on this bus (all its events come from this account).
            event_pattern=events.EventPattern(account=[stack.account]),
            retention=archive_retention,
        )
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        """Per partner: what its target could not take, so one partner's outage is told apart from another's."""

        self.function_rules: dict[str, events.Rule] = {}
        """Per function that receives events (`queue_for`): the rule feeding its queue."""
        self.partner_rules: dict[str, events.Rule] = {}
        for partner in partner_event_buses:
            rule = self._partner_rule(partner.name, partner.detail_types)
            rule.add_target(
                targets.EventBus(
                    events.EventBus.from_event_bus_arn(self, f"{partner.name}Bus", partner.event_bus_arn),
                    dead_letter_queue=self._dead_letter_queue(partner.name),
                )
            )

        self.api_destinations: dict[str, events.ApiDestination] = {}
        for destination in partner_api_destinations:
            connection = events.Connection(
                self,
                f"{destination.name}Connection",
                description=f"Credentials of billing partner {destination.name}",
                authorization=events.Authorization.api_key(
                    destination.api_key_header, SecretValue.secrets_manager(destination.api_key_secret_name)
                ),
            )
            api_destination = events.ApiDestination(
                self,
                f"{destination.name}Destination",
                connection=connection,
                endpoint=str(destination.endpoint),
                http_method=events.HttpMethod.POST,
                rate_limit_per_second=destination.rate_limit_per_second,
                description=f"Billing partner {destination.name}",
            )
            self.api_destinations[destination.name] = api_destination
            self._partner_rule(destination.name, destination.detail_types).add_target(
                targets.ApiDestination(
                    api_destination,
                    dead_letter_queue=self._dead_letter_queue(destination.name),
                    max_event_age=MAX_EVENT_AGE,
                    retry_attempts=RETRY_ATTEMPTS,
                )
            )

    def _dead_letter_queue(self, partner: str) -> sqs.Queue:
        queue = self._new_dead_letter_queue(partner, f"partner {partner}'s target")
        self.dead_letter_queues[partner] = queue
        return queue

    def _new_dead_letter_queue(self, name: str, of_what: str) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            f"{name}DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        Validations.of(queue).acknowledge(
            Acknowledgment(id="AwsSolutions-SQS3", reason=f"This queue is the dead-letter queue of {of_what}.")
        )
        return queue

    def _partner_rule(self, name: str, detail_types: Sequence[str]) -> events.Rule:
        # Billing events only: the driver events on the same bus carry id tags, which are the drivers' business and
        # reach them through their own rule (notifications), never a partner's.
        pattern = events.EventPattern(source=[Source.BILLING.value], detail_type=list(detail_types) or None)
        rule = events.Rule(
            self, f"{name}Rule", event_bus=self.bus, event_pattern=pattern, description=f"CSMS events to partner {name}"
        )
        self.partner_rules[name] = rule
        return rule

    def queue_for(
        self, name: str, *, event_pattern: Mapping[str, Any], max_receives: int, visibility_timeout: Duration
    ) -> tuple[sqs.Queue, sqs.Queue]:
        """A rule sending the bus's events that match `event_pattern` (only `source` is used) to a queue of their
        own, which moves a message received `max_receives` times to its dead-letter queue; what EventBridge
        cannot put on the queue lands there too. Returns (queue, dead-letter queue); the stack lets a function
        consume the queue."""
        unsupported = set(event_pattern) - {"source"}
        if unsupported:
            raise ValueError(f"event patterns of function queues use `source` only, not {sorted(unsupported)}")
        dead_letters = self._new_dead_letter_queue(name, f"the {name} function's queue")
        queue = sqs.Queue(
            self,
            f"{name}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receives),
        )
        rule = events.Rule(
            self,
            f"{name}Rule",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=list(event_pattern["source"])),
            description=f"CSMS events to the {name} function's queue",
        )
        rule.add_target(targets.SqsQueue(queue, dead_letter_queue=dead_letters))
        self.function_rules[name] = rule
        return queue, dead_letters
