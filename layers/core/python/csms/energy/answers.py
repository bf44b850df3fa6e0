"""A site's profile answered, failed, timed out: its site's load control runs again (csms/energy/control.py reads
what came of it from the command itself; this only makes it run, from the message function's answer path)."""

from __future__ import annotations

from csms.adapters.dynamodb.follow_ups import FollowUps, run_item
from csms.commands.service import LOAD_CONTROL_CONTEXT
from csms.domain.commands import Command
from csms.runtime.wiring import Services


def profile_done(services: Services, command: Command) -> None:
    site_id = (command.context or {})[LOAD_CONTROL_CONTEXT]
    now = services.clock.now()
    FollowUps(services.table).put(
        run_item(site_id, f"ANSWER#{command.command_id}#{command.status.value}", now=now, charge_point_id=command.charge_point_id)
    )
