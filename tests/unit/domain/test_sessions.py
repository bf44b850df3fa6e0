from datetime import timedelta

from csms.domain.sessions import AppSession, AppSessionStatus, PendingStart, pending_start_for
from tests.fakes.clock import EPOCH

WINDOW = timedelta(minutes=10)


def pending(session_id: str, station: str = "CP1", connector: int = 1, *, minutes_ago: float = 1) -> PendingStart:
    return PendingStart(
        session_id=session_id, charge_point_id=station, connector_id=connector, requested_at=EPOCH - timedelta(minutes=minutes_ago)
    )


def find(starts: tuple[PendingStart, ...], connector: int = 1) -> str | None:
    found = pending_start_for(starts, charge_point_id="CP1", connector_id=connector, now=EPOCH, window=WINDOW)
    return found.session_id if found else None


def test_a_start_binds_the_app_session_asked_for_its_connector():
    assert find((pending("a", connector=2), pending("b", connector=1))) == "b"
    assert find((pending("old", minutes_ago=5), pending("new", minutes_ago=1))) == "new"


def test_a_station_that_starts_on_another_connector_still_binds_its_only_app_session():
    assert find((pending("a", connector=2),)) == "a"
    assert find((pending("a", connector=2), pending("b", connector=3))) is None  # which one? neither
    assert find((pending("a", station="CP2"),)) is None  # another station's


def test_a_stale_app_session_never_binds_and_shows_expired():
    assert find((pending("a", minutes_ago=10),)) is None
    session = AppSession(
        session_id="a", charge_point_id="CP1", connector_id=1, id_tag="T", requested_at=EPOCH, status=AppSessionStatus.REQUESTED
    )
    assert session.status_at(EPOCH + WINDOW - timedelta(seconds=1), WINDOW) is AppSessionStatus.REQUESTED
    assert session.status_at(EPOCH + WINDOW, WINDOW) is AppSessionStatus.EXPIRED
