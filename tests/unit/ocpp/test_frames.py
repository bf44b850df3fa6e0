import json

import pytest

from csms.ocpp.errors import ErrorCode
from csms.ocpp.frames import Call, CallError, CallResult, FrameError, parse_frame


def test_call_result_and_error_frames_parse():
    assert parse_frame('[2,"m1","Heartbeat",{}]') == Call("m1", "Heartbeat", {})
    assert parse_frame('[3,"m1",{"currentTime":"x"}]') == CallResult("m1", {"currentTime": "x"})
    assert parse_frame('[4,"m1","NotSupported","nope",{}]') == CallError("m1", ErrorCode.NOT_SUPPORTED, "nope", {})


def test_a_station_specific_error_code_is_kept_as_generic():
    assert parse_frame('[4,"m1","VendorOops","x",{}]').code is ErrorCode.GENERIC_ERROR


@pytest.mark.parametrize(
    ("text", "message_id", "code"),
    [
        ("not json", "-1", ErrorCode.FORMATION_VIOLATION),
        ('{"a":1}', "-1", ErrorCode.FORMATION_VIOLATION),
        ("[2]", "-1", ErrorCode.FORMATION_VIOLATION),
        ('[2, 5, "Heartbeat", {}]', "-1", ErrorCode.FORMATION_VIOLATION),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "-1", ErrorCode.FORMATION_VIOLATION),
        ('[2,"m1","Heartbeat"]', "m1", ErrorCode.FORMATION_VIOLATION),
        ('[2,"m1","Heartbeat",[]]', "m1", ErrorCode.FORMATION_VIOLATION),
        ('[2,"m1",7,{}]', "m1", ErrorCode.FORMATION_VIOLATION),
        ('[9,"m1","Heartbeat",{}]', "m1", ErrorCode.PROTOCOL_ERROR),
        ('[2.0,"m1","Heartbeat",{}]', "m1", ErrorCode.PROTOCOL_ERROR),
        ('[2,"m1"]', "m1", ErrorCode.FORMATION_VIOLATION),
    ],
)
def test_broken_frames_say_how_to_answer(text, message_id, code):
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    assert caught.value.answerable
    reply = json.loads(caught.value.to_call_error().to_json())
    assert reply[:3] == [4, message_id, code]


@pytest.mark.parametrize("text", ['[3,"m1"]', '[3,"m1",[]]', '[4,"m1","GenericError"]', '[4,"m1",1,"x",{}]', "[3, 7, {}]"])
def test_broken_responses_are_not_answered(text):
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    assert not caught.value.answerable


def test_frames_serialise_as_ocpp_j_arrays():
    assert json.loads(Call("m", "Reset", {"type": "Soft"}).to_json()) == [2, "m", "Reset", {"type": "Soft"}]
    assert json.loads(CallResult("m", {}).to_json()) == [3, "m", {}]
    assert json.loads(CallError("m", ErrorCode.INTERNAL_ERROR, "boom").to_json()) == [4, "m", "InternalError", "boom", {}]
