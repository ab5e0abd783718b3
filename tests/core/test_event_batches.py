"""Domain events in batches (apps/core/events.py, "Batches"): batch handlers are called once per
batch with every entry, per-item handlers once per event, and a station's events keep their
order whatever the batch holds."""

from __future__ import annotations

from collections import defaultdict

import pytest

from apps.core import events

C, B, S, D = (
    events.STATION_CONNECTED,
    events.STATION_BOOTED,
    events.STATUS_CHANGED,
    events.STATION_DISCONNECTED,
)


@pytest.fixture
def registry(monkeypatch):
    """An empty registry: only the test's handlers run."""
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    monkeypatch.setattr(events, "_in_transaction_handlers", defaultdict(list))
    monkeypatch.setattr(events, "_batch", set())
    monkeypatch.setattr(events, "_coalescer", None)


def test_a_storm_of_connects_boots_and_statuses_is_one_segment():
    entries = []
    for station in range(3):
        entries += [(C, {"station_id": station}), (B, {"station_id": station})]
    entries += [(S, {"station_id": station, "status": "Available"}) for station in range(3)]

    (segment,) = events.segments(entries)

    assert [p["station_id"] for p in segment[C]] == [0, 1, 2]
    assert [p["station_id"] for p in segment[B]] == [0, 1, 2]
    assert [p["station_id"] for p in segment[S]] == [0, 1, 2]


def test_a_station_going_back_in_the_order_starts_a_new_segment():
    entries = [
        (C, {"station_id": 1}),
        (D, {"station_id": 1}),
        (C, {"station_id": 1}),  # it came back: after its disconnect, not before
        (S, {"station_id": 2, "status": "Faulted"}),
        (B, {"station_id": 2}),  # a reboot after a status
    ]

    first, second, third = events.segments(entries)

    assert first == {C: [{"station_id": 1}], D: [{"station_id": 1}]}
    assert second == {C: [{"station_id": 1}], S: [{"station_id": 2, "status": "Faulted"}]}
    assert third == {B: [{"station_id": 2}]}


def test_other_events_are_never_mixed_with_station_events():
    entries = [
        (C, {"station_id": 1}),
        (events.SESSION_ENDED, {"session_id": 7, "station_id": 1}),
        (events.SESSION_ENDED, {"session_id": 8, "station_id": 2}),
        (C, {"station_id": 2}),
    ]

    segments = events.segments(entries)

    assert [list(s) for s in segments] == [[C], [events.SESSION_ENDED], [C]]
    assert len(segments[1][events.SESSION_ENDED]) == 2


def test_batch_handlers_run_once_per_segment_and_per_item_handlers_once_per_event(registry):
    batches, items = [], []

    def batch_handler(*, entries, **_):
        batches.append(list(entries))

    def item_handler(*, event, station_id, **_):
        items.append((event, station_id))

    for event in (C, S):
        events.subscribe(event, batch_handler, batch=True)
        events.subscribe(event, item_handler)

    events.deliver(
        None,
        [(S, {"station_id": 1}), (C, {"station_id": 2}), (S, {"station_id": 2})],
    )

    # One call with both events' entries, connects first (ORDER); station 1's status needs
    # no cut (it has no connect in the batch).
    assert batches == [[(C, {"station_id": 2}), (S, {"station_id": 1}), (S, {"station_id": 2})]]
    assert items == [(C, 2), (S, 1), (S, 2)]


def test_a_failing_batch_handler_does_not_stop_the_others(registry):
    seen = []

    def broken(**_):
        raise RuntimeError("a feature's bug")

    def fine(*, entries, **_):
        seen.extend(payload["station_id"] for _, payload in entries)

    events.subscribe(C, broken, batch=True)
    events.subscribe(C, fine, batch=True)

    events.deliver(None, [(C, {"station_id": 1}), (C, {"station_id": 2})])

    assert seen == [1, 2]


def test_emit_many_calls_a_batch_handler_once_after_commit(
    registry, db, django_capture_on_commit_callbacks
):
    calls = []
    events.subscribe(C, lambda **kw: calls.append(kw["entries"]), batch=True)

    with django_capture_on_commit_callbacks(execute=True):
        events.emit_many(C, [{"station_id": 1}, {"station_id": 2}])
        assert calls == []  # not before the commit

    assert calls == [[(C, {"station_id": 1}), (C, {"station_id": 2})]]


def test_a_batch_handler_may_not_run_inside_the_transaction():
    with pytest.raises(ValueError):
        events.subscribe(C, lambda **_: None, batch=True, in_transaction=True)
