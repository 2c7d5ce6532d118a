"""The shipped pytest plugin, exercised in a separate pytest run (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.usefixtures("eventbus")  # the inner run starts from a bus with no subscriptions
def test_plugin_fixtures_and_leftover_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from app.core.events import EventBus, EventType, HandlerError, event_bus

        def test_recorder(published_events):
            event_bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1", "clinic_id": "c"})
            published_events.assert_published("patient.created", patient_id="p1")
            published_events.assert_not_published("invoice.paid")
            assert published_events.types() == ["patient.created"]

        def test_cleared_bus_is_restored(eventbus):
            assert eventbus.subscriptions() == ()
            eventbus.subscribe("patient.created", print)

        def test_errors_are_raised(eventbus):
            def broken(payload):
                raise RuntimeError("x")
            eventbus.subscribe("patient.created", broken)
            with pytest.raises(HandlerError):
                eventbus.publish("patient.created", {"patient_id": "p", "clinic_id": "c"})

        def test_leaves_a_subscription():
            event_bus.subscribe("patient.created", print)

        @pytest.mark.eventbus_leaves_subscriptions
        def test_allowed_to_leave():
            event_bus.subscribe("invoice.paid", print)

        def test_the_allowed_one_is_still_there_and_removed():
            assert [s.pattern for s in event_bus.subscriptions()] == ["invoice.paid"]
            event_bus.clear()
        """
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "app.core.events.pytest_plugin", "-W", "error",
        # the checkout is on sys.path, so its egg-info marks `app` for rewriting, too late
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    )  # fmt: skip
    result.assert_outcomes(passed=6, errors=1)  # a leftover fails the teardown
    result.stdout.fnmatch_lines(
        ["*left event bus subscriptions behind*patient.created -> builtins.print*"]
    )
