"""The instrumentation hook: free while nobody observes, observers isolated from delivery."""

from __future__ import annotations

from app.core.events.instrumentation import HOOK, Kind, Observation
from tests.app.observability_support import observers_restored


def test_notify_is_none_until_something_observes() -> None:
    with observers_restored():
        before = HOOK.observers()
        for observer in before:
            HOOK.remove(observer)
        try:
            assert HOOK.notify is None
            seen: list[Observation] = []
            HOOK.add(seen.append)
            HOOK.add(seen.append)  # twice is once
            assert HOOK.notify is not None
            HOOK.notify(Observation(Kind.PUBLISHED, "patient.created", "inprocess"))
            assert [o.kind for o in seen] == [Kind.PUBLISHED]
            HOOK.remove(seen.append)
            assert HOOK.notify is None
        finally:
            for observer in before:
                HOOK.add(observer)


def test_a_failing_observer_is_logged_and_the_others_still_run() -> None:
    seen: list[Observation] = []

    def broken(observation: Observation) -> None:
        raise RuntimeError("observer bug")

    with observers_restored():
        HOOK.add(broken)
        HOOK.add(seen.append)
        assert HOOK.notify is not None
        HOOK.notify(Observation(Kind.HANDLED, "patient.created", "rq", "x.y", 0.01))
        HOOK.notify(Observation(Kind.HANDLED, "patient.created", "rq", "x.y", 0.01))
    assert len(seen) == 2


def test_change_listeners_hear_of_every_change() -> None:
    class Listener:
        calls = 0

        def changed(self) -> None:
            self.calls += 1

    listener = Listener()
    HOOK.on_change(listener.changed)
    with observers_restored():
        HOOK.add(print)
    assert listener.calls == 2
