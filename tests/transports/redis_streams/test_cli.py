"""``flask events worker | stats | dlq``, through the real app factory and Flask's CLI runner."""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Any

from flask import Flask

from app.core.events import EventType, event_bus
from tests.support.redis_server import free_port
from tests.transports.redis_streams.load import handled
from transports.redis_streams import drain


def _run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["events", *args], catch_exceptions=False)


def test_worker_burst_handles_what_the_app_published(
    streams_app: Flask, redis_client: Any, key_prefix: str
) -> None:
    for n in range(5):
        event_bus.publish(EventType.PATIENT_CREATED, {"n": n})
    result = _run(streams_app, "worker", "--burst", "--consumer-name", "cli", "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert "worker cli: handled 10 event(s) in " in result.output, "the summary line"
    assert set(handled(redis_client, key_prefix, "recorder.on_created")) == {
        "0",
        "1",
        "2",
        "3",
        "4",
    }
    assert len(handled(redis_client, key_prefix, "recorder.on_patient")) == 5


def test_worker_with_no_matching_handler_is_a_usage_error(streams_app: Flask) -> None:
    result = streams_app.test_cli_runner().invoke(
        args=["events", "worker", "--burst", "--handler", "nothing.*"]
    )
    assert result.exit_code == 2 and "no handler is routed to redis-streams" in result.output


def test_stats_reports_pending_lag_and_dead_letters(
    streams_app: Flask, redis_client: Any, key_prefix: str
) -> None:
    for n in range(3):
        event_bus.publish(EventType.PATIENT_CREATED, {"n": n})
    stream = f"{key_prefix}:stream:patient.created"
    redis_client.xreadgroup("recorder.on_created", "gone:0", {stream: ">"}, count=1)
    redis_client.xadd(stream, {"garbage": "1"})
    result = _run(streams_app, "stats", "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    rows = {row["handler_id"]: row for row in report["handlers"]}
    created = rows["recorder.on_created"]
    assert (created["pending"], created["consumers"]) == (1, ["gone:0"])
    assert created["lag"] == 3 and created["oldest_pending_age_s"] >= 0
    assert rows["recorder.on_patient"]["lag"] == 4
    assert "appendonly" in " ".join(report["notes"])
    table = _run(streams_app, "stats")
    assert "recorder.on_created" in table.output and "PENDING" in table.output


def test_dlq_list_show_replay_purge(streams_app: Flask, redis_client: Any, key_prefix: str) -> None:
    stream = f"{key_prefix}:stream:patient.created"
    event_bus.publish(EventType.PATIENT_CREATED, {"n": 7})
    redis_client.xadd(stream, {"garbage": "1"})
    [[_, [(entry_id, _)]]] = redis_client.xreadgroup(
        "recorder.on_created", "w:0", {stream: ">"}, count=1
    )
    # the handler was started twice (read, then re-taken) and its worker died each time
    redis_client.xclaim(stream, "recorder.on_created", "w:0", 0, [entry_id])
    assert _run(streams_app, "worker", "--burst", "--consumer-name", "w").exit_code == 0
    listing = _run(streams_app, "dlq", "list", "--json")
    letters = [json.loads(line) for line in listing.output.splitlines()]
    by_class = {letter["error_class"]: letter for letter in letters}
    assert set(by_class) == {"DeliveryLimitExceeded", "MalformedEnvelopeError"}
    limited = by_class["DeliveryLimitExceeded"]
    assert (limited["handler_id"], limited["deliveries"]) == ("recorder.on_created", 2)
    shown = json.loads(_run(streams_app, "dlq", "show", limited["id"]).output)
    assert shown["envelope"]["payload"] == {"n": 7}
    assert "recorder.on_created" in _run(streams_app, "dlq", "list").output

    replay = _run(streams_app, "dlq", "replay", limited["id"])
    assert replay.exit_code == 0 and "replayed" in replay.output
    assert _run(streams_app, "worker", "--burst", "--consumer-name", "w").exit_code == 0
    assert handled(redis_client, key_prefix, "recorder.on_created") == {"7": 1}
    assert handled(redis_client, key_prefix, "recorder.on_patient") == {"7": 1}, "others untouched"

    malformed = streams_app.test_cli_runner().invoke(
        args=["events", "dlq", "replay", by_class["MalformedEnvelopeError"]["id"]]
    )
    assert malformed.exit_code == 1 and "no valid event" in malformed.output
    missing = streams_app.test_cli_runner().invoke(args=["events", "dlq", "show", "1-1"])
    assert missing.exit_code == 1 and "no dead letter" in missing.output
    purge = _run(streams_app, "dlq", "purge", "--all", "--yes")
    assert "deleted 2 dead letter(s)" in purge.output


def test_drain_follows_events_that_handlers_publish(
    streams_app: Flask, redis_client: Any, key_prefix: str
) -> None:
    def cascade(payload: dict[str, Any]) -> None:
        event_bus.publish(EventType.PATIENT_UPDATED, {"n": payload["n"] + 100})

    event_bus.subscribe(EventType.PATIENT_CREATED, cascade, handler_id="t.cascade")
    try:
        event_bus.publish(EventType.PATIENT_CREATED, {"n": 1})
        assert drain(streams_app) == 4  # created: 3 handlers; then updated: on_patient
    finally:
        event_bus.unsubscribe(EventType.PATIENT_CREATED, cascade)
    assert handled(redis_client, key_prefix, "recorder.on_patient") == {"1": 1, "101": 1}


def test_operator_commands_report_an_unreachable_redis_clearly(streams_app: Flask) -> None:
    streams_app.config["EVENTBUS_REDIS_URL"] = f"redis://:pw@127.0.0.1:{free_port()}/0"
    for args in (["stats"], ["dlq", "list"]):
        result = streams_app.test_cli_runner().invoke(args=["events", *args])
        assert result.exit_code == 1 and "ConnectionError" in result.output
        assert "Traceback" not in result.output and ":pw@" not in result.output


def test_a_burst_worker_gives_up_on_an_unreachable_redis_with_a_clear_error(
    streams_app: Flask,
) -> None:
    streams_app.config["EVENTBUS_REDIS_URL"] = f"redis://:pw@127.0.0.1:{free_port()}/0"
    result = streams_app.test_cli_runner().invoke(
        args=["events", "worker", "--burst", "--reconnect-attempts", "2"]
    )
    assert result.exit_code == 1, result.output
    assert "worker stopped: burst worker gave up" in result.output
    assert "still failing after 2 attempts" in result.output and ":pw@" not in result.output


def test_sigint_stops_an_in_process_worker_gracefully_and_is_passed_on(
    streams_app: Flask,
) -> None:
    started, release = threading.Event(), threading.Event()
    done: list[int] = []

    def slow(payload: dict[str, Any]) -> None:
        started.set()
        release.wait(60)
        done.append(payload["n"])

    def interrupt_once_busy() -> None:
        if started.wait(60):  # the worker, and so its signal handlers, runs
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while a handler runs
        release.set()

    event_bus.subscribe(EventType.PATIENT_CREATED, slow, handler_id="t.slow")
    # a process started in the background ignores SIGINT: have Python's handler, as a shell has
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    helper = threading.Thread(target=interrupt_once_busy, daemon=True)
    try:
        event_bus.publish(EventType.PATIENT_CREATED, {"n": 1})
        helper.start()
        result = streams_app.test_cli_runner().invoke(
            args=["events", "worker", "--handler", "t.slow", "--consumer-name", "cli"]
        )
        restored = signal.getsignal(signal.SIGINT)
    finally:
        release.set()
        helper.join(60)
        signal.signal(signal.SIGINT, previous)
        event_bus.unsubscribe(EventType.PATIENT_CREATED, slow)
    assert done == [1], "the running handler finished"
    assert result.exit_code == 1 and "Aborted!" in result.output, "the interrupt was passed on"
    assert restored is signal.default_int_handler


def test_replaying_many_dead_letters_prints_a_summary_not_a_line_each(
    streams_app: Flask, redis_client: Any, key_prefix: str
) -> None:
    from transports.redis_streams import StreamKeys
    from transports.redis_streams.dead_letters import dead_letter

    stream = f"{key_prefix}:stream:patient.created"
    for n in range(25):
        event_bus.publish(EventType.PATIENT_CREATED, {"n": n})
    [[_, entries]] = redis_client.xreadgroup("recorder.on_created", "w:0", {stream: ">"}, count=100)
    for entry_id, fields in entries:
        dead_letter(
            redis_client,
            StreamKeys(key_prefix),
            stream=stream,
            group="recorder.on_created",
            entry_id=entry_id,
            fields=fields,
            deliveries=5,
            error_class="RuntimeError",
            reason="test",
            consumer="w:0",
        )
    replay = _run(streams_app, "dlq", "replay", "--all")
    assert replay.exit_code == 0, replay.output
    assert replay.output.strip().splitlines() == ["replayed 25 of 25 dead letter(s)"]
    assert _run(streams_app, "worker", "--burst", "--consumer-name", "w").exit_code == 0
    assert len(handled(redis_client, key_prefix, "recorder.on_created")) == 25
