"""OCPP 1.6J station simulator: `python -m simulator --help`, or `SimulatedChargePoint` from a test."""

from simulator.calls import ReceivedCall, StationStats
from simulator.station import SimulatedChargePoint

__all__ = ["ReceivedCall", "SimulatedChargePoint", "StationStats"]
