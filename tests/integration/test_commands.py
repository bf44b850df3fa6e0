"""The command outbox against emulated DynamoDB, with a recording stand-in for the @connections API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from csms.adapters.dynamodb.keys import station_key
from csms.commands import service
from csms.domain.commands import CommandStatus
from csms.domain.passwords import verify_password
from csms.domain.station_config import ConfigurationValue
from csms.ocpp.errors import ErrorCode
from csms.ocpp.frames import CallError, CallResult


class RecordingConnections:
    """What a station would receive; `gone` connections answer 410 like API Gateway."""

    def __init__(self):
        self.sent: list[tuple[str, list]] = []
        self.gone: set[str] = set()

    def send(self, connection_id, frame):
        if connection_id in self.gone:
            return False
        self.sent.append((connection_id, json.loads(frame)))
        return True

    def close(self, connection_id):
        return True


class RecordingWorkflows:
    def __init__(self):
        self.outcomes = []

    def succeed(self, token, output):
        self.outcomes.append(("success", token, output))

    def fail(self, token, *, error, cause):
        self.outcomes.append(("failure", token, error, cause))


@pytest.fixture
def station(services, table, clock):
    clock.step = timedelta(milliseconds=1)  # commands sent one after the other are queued in that order
    table.put_item(Item={**station_key("CP1"), "chargePointId": "CP1", "registered": True, "bootStatus": "Accepted", "connectionId": "conn-A"})
    services.connections = RecordingConnections()
    services.workflows = RecordingWorkflows()
    return services


def answer(services, frame_payload_or_error, command, charge_point_id="CP1"):
    if isinstance(frame_payload_or_error, dict):
        frame = CallResult(command.command_id, frame_payload_or_error)
    else:
        frame = CallError(command.command_id, frame_payload_or_error, "it failed", {})
    service.handle_answer(services, charge_point_id, frame)
    return services.commands.get(command.command_id)


def test_a_command_goes_out_as_a_call_with_its_id(station):
    command = service.send_command(station, "CP1", "Reset", {"type": "Soft"})
    assert station.connections.sent == [("conn-A", [2, command.command_id, "Reset", {"type": "Soft"}])]
    assert station.commands.get(command.command_id).status is CommandStatus.SENT


def test_only_one_call_is_outstanding_the_rest_wait_their_turn(station):
    first = service.send_command(station, "CP1", "ClearCache", {})
    second = service.send_command(station, "CP1", "UnlockConnector", {"connectorId": 1})
    third = service.send_command(station, "CP1", "GetLocalListVersion", {})
    assert [frame[2] for _, frame in station.connections.sent] == ["ClearCache"]
    assert station.commands.get(second.command_id).status is CommandStatus.QUEUED
    answer(station, {"status": "Accepted"}, first)
    assert [frame[2] for _, frame in station.connections.sent] == ["ClearCache", "UnlockConnector"]
    answer(station, {"status": "Unlocked"}, second)
    answer(station, {"listVersion": 7}, third)
    assert [frame[2] for _, frame in station.connections.sent] == ["ClearCache", "UnlockConnector", "GetLocalListVersion"]
    assert station.commands.get(third.command_id).response == {"listVersion": 7}
    assert station_item(station)["localListVersion"] == 7


def station_item(services):
    return services.table.get_item(Key=station_key("CP1"))["Item"]


def test_a_call_error_fails_the_command_and_frees_the_station(station):
    first = service.send_command(station, "CP1", "Reset", {"type": "Hard"})
    second = service.send_command(station, "CP1", "ClearCache", {})
    failed = answer(station, ErrorCode.NOT_SUPPORTED, first)
    assert failed.status is CommandStatus.FAILED and failed.error["code"] == "NotSupported"
    assert station.connections.sent[-1][1][2] == "ClearCache"
    assert "outstandingCall" in station_item(station) and station_item(station)["outstandingCall"]["commandId"] == second.command_id


def test_an_answer_that_breaks_the_schema_fails_the_command(station):
    command = service.send_command(station, "CP1", "Reset", {"type": "Soft"})
    failed = answer(station, {"status": "Maybe"}, command)
    assert failed.status is CommandStatus.FAILED
    assert failed.error["code"] == "PropertyConstraintViolation" and failed.response == {"status": "Maybe"}


def test_a_repeated_answer_changes_nothing(station):
    command = service.send_command(station, "CP1", "Reset", {"type": "Soft"})
    answer(station, {"status": "Accepted"}, command)
    again = answer(station, {"status": "Rejected"}, command)
    assert again.response == {"status": "Accepted"}


def test_an_answer_from_another_station_is_ignored(station):
    command = service.send_command(station, "CP1", "Reset", {"type": "Soft"})
    assert answer(station, {"status": "Accepted"}, command, charge_point_id="CP2").status is CommandStatus.SENT


def test_an_expired_call_lets_the_next_one_go_and_its_late_answer_is_still_kept(station, clock):
    station.settings = station.settings.model_copy(update={"command_timeout_seconds": 30})
    first = service.send_command(station, "CP1", "GetDiagnostics", {"location": "ftp://diag.example.com/"})
    second = service.send_command(station, "CP1", "ClearCache", {})
    assert len(station.connections.sent) == 1
    clock.advance(seconds=31)
    assert service.wait_for(station, second.command_id, seconds=0.01).status is CommandStatus.QUEUED
    service.pump(station, "CP1")
    assert station.connections.sent[-1][1][2] == "ClearCache"
    timed_out = station.commands.get(first.command_id)
    assert (timed_out.status, timed_out.error["code"]) == (CommandStatus.TIMED_OUT, "TimedOut")
    late = answer(station, {"fileName": "diag.zip"}, first)
    assert late.status is CommandStatus.ANSWERED and late.response == {"fileName": "diag.zip"}
    # The late answer did not free the slot that belongs to the second call.
    assert station_item(station)["outstandingCall"]["commandId"] == second.command_id


def test_commands_to_a_gone_connection_fail_without_blocking_the_queue(station):
    station.connections.gone.add("conn-A")
    first = service.send_command(station, "CP1", "ClearCache", {})
    assert station.commands.get(first.command_id).error["code"] == "StationNotConnected"
    assert "outstandingCall" not in station_item(station)


@pytest.mark.parametrize(
    ("charge_point_id", "action", "payload", "error"),
    [
        ("CP1", "Reset", {"type": "Gentle"}, service.InvalidCommand),
        ("CP1", "Heartbeat", {}, service.InvalidCommand),  # a station's action, not a command
        ("CP1", "Explode", {}, service.InvalidCommand),
        ("NOPE", "Reset", {"type": "Soft"}, service.StationNotFound),
    ],
)
def test_bad_commands_are_refused_before_anything_is_sent(station, charge_point_id, action, payload, error):
    with pytest.raises(error):
        service.send_command(station, charge_point_id, action, payload)
    assert station.connections.sent == []


def test_a_station_that_is_not_connected_gets_nothing(station, table):
    table.update_item(Key=station_key("CP1"), UpdateExpression="REMOVE connectionId")
    with pytest.raises(service.StationNotConnected):
        service.send_command(station, "CP1", "Reset", {"type": "Soft"})


def test_configuration_answers_are_kept(station):
    get = service.send_command(station, "CP1", "GetConfiguration", {})
    answer(station, {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ], "unknownKey": []}, get)
    change = service.send_command(station, "CP1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"})
    answer(station, {"status": "Accepted"}, change)
    rejected = service.send_command(station, "CP1", "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "4"})
    answer(station, {"status": "Rejected"}, rejected)
    keys = station.station_config.configuration("CP1").keys
    assert keys["HeartbeatInterval"] == ConfigurationValue(value="120", readonly=False)
    assert keys["NumberOfConnectors"] == ConfigurationValue(value="2", readonly=True)


def test_rotating_the_authorization_key_never_stores_it_and_changes_the_password_once_accepted(station, table):
    command = service.send_command(station, "CP1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "0123456789abcdef0123"})
    assert station.connections.sent[-1][1][3] == {"key": "AuthorizationKey", "value": "0123456789abcdef0123"}
    stored = table.get_item(Key={"pk": f"CMD#{command.command_id}", "sk": "COMMAND"})["Item"]
    assert "0123456789abcdef0123" not in json.dumps(stored, default=str)
    assert "passwordHash" not in station_item(station)
    answer(station, {"status": "Accepted"}, command)
    assert verify_password("0123456789abcdef0123", station_item(station)["passwordHash"])


def test_charging_profiles_installed_and_cleared(station):
    def profile(profile_id, purpose="TxDefaultProfile", stack=0):
        return {"chargingProfileId": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
                "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}]}}

    for connector, profile_id in ((1, 10), (2, 11), (0, 12)):
        command = service.send_command(station, "CP1", "SetChargingProfile", {"connectorId": connector, "csChargingProfiles": profile(profile_id)})
        answer(station, {"status": "Accepted"}, command)
    installed = station.station_config.profiles("CP1")
    assert sorted(p.charging_profile_id for p in installed) == [10, 11, 12]
    assert installed[0].charging_profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == pytest.approx(16.5)
    clear = service.send_command(station, "CP1", "ClearChargingProfile", {"connectorId": 1})
    answer(station, {"status": "Accepted"}, clear)
    assert sorted(p.charging_profile_id for p in station.station_config.profiles("CP1")) == [11, 12]
    clear = service.send_command(station, "CP1", "ClearChargingProfile", {"id": 12})
    answer(station, {"status": "Accepted"}, clear)
    assert [p.charging_profile_id for p in station.station_config.profiles("CP1")] == [11]


def test_a_large_local_list_is_split_into_frames_and_sent_in_order(station, clock):
    clock.step = timedelta()  # every part is queued in the same millisecond: only their positions order them
    entries = [{"idTag": f"TAG{n:05d}", "idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "FLEET-0001"}} for n in range(900)]
    commands = service.send_local_list(station, "CP1", {"listVersion": 10, "updateType": "Full", "localAuthorizationList": entries})
    assert len(commands) > 1
    for command in commands:
        _, frame = station.connections.sent[-1]
        assert len(json.dumps(frame, separators=(",", ":"))) <= 32 * 1024
        answer(station, {"status": "Accepted"}, command)
    frames = [frame for _, frame in station.connections.sent]
    assert [f[3]["updateType"] for f in frames] == ["Full"] + ["Differential"] * (len(frames) - 1)
    assert [f[3]["listVersion"] for f in frames] == list(range(11 - len(frames), 11))
    assert [e["idTag"] for f in frames for e in f[3]["localAuthorizationList"]] == [e["idTag"] for e in entries]
    assert station_item(station)["localListVersion"] == 10


def test_a_list_too_large_for_its_version_is_refused(station):
    entries = [{"idTag": f"TAG{n:05d}", "idTagInfo": {"status": "Accepted"}} for n in range(2000)]
    with pytest.raises(service.InvalidCommand, match="listVersion must be at least"):
        service.send_local_list(station, "CP1", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": entries})


def test_a_waiting_workflow_hears_the_outcome(station):
    ok = service.send_command(station, "CP1", "RemoteStopTransaction", {"transactionId": 5}, task_token="token-1")
    answer(station, {"status": "Accepted"}, ok)
    bad = service.send_command(station, "CP1", "Reset", {"type": "Soft"}, task_token="token-2")
    answer(station, ErrorCode.INTERNAL_ERROR, bad)
    assert station.workflows.outcomes == [
        ("success", "token-1", {"commandId": ok.command_id, "action": "RemoteStopTransaction", "response": {"status": "Accepted"}}),
        ("failure", "token-2", "InternalError", "it failed"),
    ]


def test_the_station_history_lists_its_commands_newest_first(station):
    reset = service.send_command(station, "CP1", "Reset", {"type": "Soft"})
    answer(station, {"status": "Accepted"}, reset)
    unlock = service.send_command(station, "CP1", "UnlockConnector", {"connectorId": 2})
    history = station.commands.list_for_station("CP1")
    assert [(c.action, c.status) for c in history] == [("UnlockConnector", CommandStatus.SENT), ("Reset", CommandStatus.ANSWERED)]
    assert history[0].command_id == unlock.command_id


def test_a_workflow_command_that_cannot_be_queued_fails_its_task_at_once(station):
    from csms.commands.workflow_task import WorkflowCommand, send_for_workflow

    event = WorkflowCommand.model_validate({"chargePointId": "NOPE", "action": "Reset", "payload": {"type": "Soft"}, "taskToken": "t-9"})
    assert send_for_workflow(event, station) == {"commandId": None}
    assert station.workflows.outcomes == [("failure", "t-9", "StationNotFound", "NOPE")]
    event = WorkflowCommand.model_validate({"chargePointId": "CP1", "action": "Reset", "payload": {"type": "Soft"}, "taskToken": "t-10"})
    command_id = send_for_workflow(event, station)["commandId"]
    assert station.connections.sent[-1][1][:3] == [2, command_id, "Reset"]


def test_a_heartbeat_sends_the_command_queued_behind_an_unanswered_one(station, table, clock):
    from tests.integration.stations import Station

    station.settings = station.settings.model_copy(update={"command_timeout_seconds": 30})
    service.send_command(station, "CP1", "GetDiagnostics", {"location": "ftp://diag.example.com/"})
    waiting = service.send_command(station, "CP1", "ClearCache", {})
    heartbeat = Station(station, "CP1", connection_id="conn-A")
    heartbeat.result("Heartbeat", {})
    assert station.commands.get(waiting.command_id).status is CommandStatus.QUEUED  # the first call may still be answered
    clock.advance(seconds=31)
    heartbeat.result("Heartbeat", {})
    assert station.commands.get(waiting.command_id).status is CommandStatus.SENT
    assert station.connections.sent[-1][1][2] == "ClearCache"


def test_a_workflow_waiting_on_a_call_that_timed_out_is_told_once(station, clock):
    station.settings = station.settings.model_copy(update={"command_timeout_seconds": 30})
    first = service.send_command(station, "CP1", "GetDiagnostics", {"location": "ftp://diag.example.com/"}, task_token="token-1")
    service.send_command(station, "CP1", "ClearCache", {})
    clock.advance(seconds=31)
    service.pump(station, "CP1")
    answer(station, {"fileName": "diag.zip"}, first)  # too late for the workflow: it was told
    assert station.workflows.outcomes == [("failure", "token-1", "TimedOut", "The station did not answer in time")]


def test_a_hand_over_that_fails_loses_nothing_and_the_next_pump_sends_the_command(station, monkeypatch):
    from botocore.exceptions import ClientError

    client = station.table.meta.client
    real = client.transact_write_items
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
    failures = [throttled]

    def flaky(**request):
        is_hand_over = len(request["TransactItems"]) == 3 and "Delete" in request["TransactItems"][1]
        if is_hand_over and failures:
            raise failures.pop()
        return real(**request)

    monkeypatch.setattr(client, "transact_write_items", flaky)
    with pytest.raises(ClientError):
        service.send_command(station, "CP1", "ClearCache", {})
    (queued,) = station.commands.list_for_station("CP1")
    assert queued.status is CommandStatus.QUEUED and station.commands.next_queued("CP1").command_id == queued.command_id
    assert "outstandingCall" not in station_item(station)
    service.pump(station, "CP1")
    assert station.commands.get(queued.command_id).status is CommandStatus.SENT
    assert [frame[2] for _, frame in station.connections.sent] == ["ClearCache"]


def test_an_answer_whose_write_is_throttled_is_tried_again_and_recorded(station, monkeypatch):
    from botocore.exceptions import ClientError

    from csms.station import dispatcher
    from tests.integration.stations import Station

    monkeypatch.setattr(dispatcher, "ANSWER_RETRY_DELAYS", (0, 0))
    command = service.send_command(station, "CP1", "ClearCache", {})
    table = station.table
    real = table.update_item
    failures = [ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")] * 2

    def throttled(**request):
        if failures:
            raise failures.pop()
        return real(**request)

    monkeypatch.setattr(table, "update_item", throttled)
    reply = Station(station, "CP1").send_raw(json.dumps([3, command.command_id, {"status": "Accepted"}]))
    assert reply is None
    assert station.commands.get(command.command_id).status is CommandStatus.ANSWERED


def test_an_answer_that_cannot_be_recorded_is_logged_with_its_message_id_and_counted(station, monkeypatch, caplog):
    from botocore.exceptions import ClientError

    from csms.station import dispatcher
    from tests.integration.stations import Station

    monkeypatch.setattr(dispatcher, "ANSWER_RETRY_DELAYS", (0, 0))
    counted = []
    monkeypatch.setattr(dispatcher.metrics, "add_metric", lambda **metric: counted.append(metric["name"]))
    command = service.send_command(station, "CP1", "ClearCache", {})

    def always_throttled(**request):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(station.table, "update_item", always_throttled)
    Station(station, "CP1").send_raw(json.dumps([3, command.command_id, {"status": "Accepted"}]))
    assert counted == ["UnrecordedAnswers"]
    (record,) = [record for record in caplog.records if record.getMessage() == "A station's answer could not be recorded"]
    assert record.message_id == command.command_id and record.attempts == 3


def test_an_answers_effects_are_recorded_before_the_command_reads_answered(station, monkeypatch):
    record = station.commands.record_outcome
    seen_when_answered = []

    def recording(command_id, **outcome):
        seen_when_answered.append(station.station_config.configuration("CP1"))
        return record(command_id, **outcome)

    monkeypatch.setattr(station.commands, "record_outcome", recording)
    change = service.send_command(station, "CP1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"})
    answer(station, {"status": "Accepted"}, change)
    (configuration,) = seen_when_answered
    assert configuration is not None and configuration.value("HeartbeatInterval") == "120"
