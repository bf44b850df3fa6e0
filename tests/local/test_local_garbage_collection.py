"""local.garbage_collection: a full collection's survivors are frozen, and handed back to the collector in time."""

from __future__ import annotations

import gc
import weakref

import pytest

from local.garbage_collection import FreezeSurvivors, survivors_frozen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_what_survives_a_full_collection_is_no_longer_walked_by_the_next():
    clock = Clock()
    callback = FreezeSurvivors(thaw_seconds=60, monotonic=clock)
    kept = [[n] for n in range(1000)]  # noqa: F841  (alive across the collection)
    callback("start", {"generation": 2})
    assert gc.get_freeze_count() == 0
    callback("stop", {"generation": 1})
    assert gc.get_freeze_count() == 0  # only a full collection's survivors are known to be long-lived
    callback("stop", {"generation": 2})
    assert gc.get_freeze_count() >= 1000


def test_every_thaw_period_the_frozen_objects_are_the_collectors_again():
    clock = Clock()
    callback = FreezeSurvivors(thaw_seconds=60, monotonic=clock)
    callback("stop", {"generation": 2})
    assert gc.get_freeze_count() > 0
    clock.now = 60
    callback("stop", {"generation": 2})
    assert gc.get_freeze_count() == 0  # the next full pass walks everything once
    clock.now = 61
    callback("stop", {"generation": 2})
    assert gc.get_freeze_count() > 0


def test_a_cycle_that_dies_after_being_frozen_is_collected_once_the_runtime_is_gone():
    class Node:
        pass

    with survivors_frozen():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        alive = weakref.ref(node)
        gc.collect()  # a full pass: the live cycle survives it and is frozen
        del node
        gc.collect()
        assert alive() is not None  # waits for the thaw
    gc.collect()
    assert alive() is None
