"""The scheduler with scripted probes (the fake at its boundary) and, end to end, with real listeners."""

import asyncio

import pytest

from piranha.nanny import loadmon
from piranha.nanny.probes import Result
from piranha.nanny.scheduler import Scheduler
from piranha.nanny.spec import CheckSpec

from .servers import closed_port, tcp_server

pytestmark = pytest.mark.timeout(30)
FAST = dict(interval=0.05, timeout=0.05)


class Script:
    """Probes whose verdicts the test sets per address; every check is recorded."""

    def __init__(self):
        self.verdict: dict[str, bool] = {}
        self.calls: list[str] = []
        self.made: list[tuple] = []

    def factory(self, spec):
        self.made.append(spec.probe_key())
        script = self

        class Probe:
            async def check(self):
                script.calls.append(spec.address)
                return Result(script.verdict.get(spec.address, True), f"scripted {spec.address}", 0.001)
        return Probe()


def spec(id, address="10.0.0.1", **kw):
    return CheckSpec(id=id, address=address, port=80, **{**FAST, **kw})


def states(events, op="state"):
    return [(e["id"], e["up"]) for e in events if e["op"] == op]


async def run_for(seconds, plan, script, events, **kw):
    scheduler = Scheduler(events.append, probe_factory=script.factory, **kw)
    scheduler.apply_plan(plan)
    await asyncio.sleep(seconds)
    return scheduler


def test_up_on_first_good_check_then_transitions_only():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.3, [spec("web/a")], script, events)
        await scheduler.close()
    asyncio.run(go())
    assert events[0] == {"op": "resync", "states": [{"id": "web/a", "up": False, "result": "not checked yet",
                                                     "latency_ms": 0.0, "time": None, "weight": 1}]}
    assert states(events) == [("web/a", True)]
    assert len(script.calls) >= 3            # checked every 50 ms, yet reported once
    state = events[1]
    assert state["result"] == "scripted 10.0.0.1" and state["latency_ms"] == 1.0 and state["time"] > 0


def test_failures_then_reentry():
    script, events, calls_at_event = Script(), [], []

    def emit(event):
        events.append(event)
        calls_at_event.append(len(script.calls))       # how many checks had run when the event was sent

    async def go():
        scheduler = Scheduler(emit, probe_factory=script.factory)
        scheduler.apply_plan([spec("web/a", failures=3, reentry=0.25)])
        while states(events) != [("web/a", True)]:
            await asyncio.sleep(0.01)
        script.verdict["10.0.0.1"] = False
        flipped = len(script.calls)
        while states(events)[-1:] != [("web/a", False)]:
            await asyncio.sleep(0.01)
        down_at = calls_at_event[-1]
        script.verdict["10.0.0.1"] = True
        recovered = len(script.calls)
        while states(events)[-1:] != [("web/a", True)]:
            await asyncio.sleep(0.01)
        await scheduler.close()
        return down_at - flipped, calls_at_event[-1] - recovered
    failed_checks, passed_checks = asyncio.run(asyncio.wait_for(go(), 20))
    assert states(events) == [("web/a", True), ("web/a", False), ("web/a", True)]
    assert failed_checks == 3                 # failures = 3 consecutive
    assert passed_checks == 5                 # reentry 0.25 s / interval 0.05 s


def test_identical_probes_run_once_and_every_id_gets_its_events():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.3, [spec("web/a"), spec("mail/a"), spec("web/b", "10.0.0.2")],
                                  script, events)
        await scheduler.close()
    asyncio.run(go())
    assert sorted(script.made) == sorted({spec("x").probe_key(), spec("x", "10.0.0.2").probe_key()})
    assert abs(script.calls.count("10.0.0.1") - script.calls.count("10.0.0.2")) <= 1
    assert sorted(states(events)) == [("mail/a", True), ("web/a", True), ("web/b", True)]


def test_a_new_plan_keeps_unchanged_ids_stops_removed_and_starts_new():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.2, [spec("a", "10.0.0.1"), spec("b", "10.0.0.2")], script, events)
        made = len(script.made)
        events.clear()
        scheduler.apply_plan([spec("a", "10.0.0.1"), spec("c", "10.0.0.3")])
        resync = events[0]
        calls_before = len(script.calls)
        await asyncio.sleep(0.3)
        await scheduler.close()
        return made, resync, script.calls[calls_before:]
    made, resync, later_calls = asyncio.run(go())
    assert made == 2 and len(script.made) == 3                 # only the new server got a new probe
    assert [(s["id"], s["up"]) for s in resync["states"]] == [("a", True), ("c", False)]
    assert states(events) == [("c", True)]                       # "a" stayed up: no new event for it
    assert "10.0.0.2" not in later_calls and "10.0.0.3" in later_calls


def test_a_changed_probe_keeps_the_health_state():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.2, [spec("a")], script, events)
        events.clear()
        scheduler.apply_plan([spec("a", send="PING")])
        await asyncio.sleep(0.2)
        await scheduler.close()
    asyncio.run(go())
    assert events[0]["states"][0]["up"] is True
    assert states(events) == []
    assert len(script.made) == 2


def test_an_empty_plan_stops_every_check():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.15, [spec("a")], script, events)
        scheduler.apply_plan([])
        calls = len(script.calls)
        await asyncio.sleep(0.2)
        await scheduler.close()
        return calls
    calls = asyncio.run(go())
    assert calls >= 2 and len(script.calls) == calls
    assert events[-1] == {"op": "resync", "states": []}


def test_invalid_plan_changes_nothing():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.1, [spec("a")], script, events)
        with pytest.raises(ValueError, match="duplicate check ids in plan: b"):
            scheduler.apply_plan([spec("b"), spec("b", "10.0.0.2")])
        with pytest.raises(ValueError, match="cannot be split"):
            Scheduler(events.append).apply_plan([spec("c", send_program="check 'open")])
        assert list(scheduler.members) == ["a"]
        await scheduler.close()
    asyncio.run(go())


def test_periodic_resync():
    script, events = Script(), []

    async def go():
        scheduler = await run_for(0.45, [spec("a")], script, events, resync_every=0.1)
        await scheduler.close()
    asyncio.run(go())
    resyncs = [e for e in events if e["op"] == "resync"]
    assert 3 <= len(resyncs) <= 6               # after the plan, then every 0.1 s
    assert resyncs[-1]["states"][0]["up"] is True


def test_staggered_first_checks():
    script, events = Script(), []
    plan = [spec(f"s{i}", f"10.0.1.{i}", interval=0.5, timeout=0.5) for i in range(1, 11)]

    async def go():
        loop = asyncio.get_running_loop()
        times = []
        scheduler = Scheduler(lambda e: times.append(loop.time()) if e["op"] == "state" else None,
                              probe_factory=script.factory)
        start = loop.time()
        scheduler.apply_plan(plan)
        await asyncio.sleep(0.6)
        await scheduler.close()
        return [t - start for t in times]
    offsets = asyncio.run(go())
    assert len(offsets) == 10
    assert offsets[0] < 0.1 and 0.35 < offsets[-1] < 0.9        # spread over the 0.5 s interval


def test_load_monitor_reweights_an_up_server(monkeypatch):
    monkeypatch.setattr(loadmon, "PERIOD", 0.1)
    script, events = Script(), []
    idle = "sh -c 'echo load average: 0.00, 0.00, 0.00' --"

    async def go():
        scheduler = await run_for(0.8, [spec("a", weight=4, load_monitor="uptime", rsh_command=idle,
                                             interval=0.1, timeout=2)], script, events)
        weights = [e["weight"] for e in events if e["op"] == "weight"]
        scheduler.apply_plan([spec("a", weight=4, interval=0.1, timeout=2)])
        await scheduler.close()
        return weights
    weights = asyncio.run(go())
    assert weights[:2] == [6, 8]                       # + C/2 per idle measurement
    assert max(weights) <= 40
    assert events[-1]["op"] == "resync" and events[-1]["states"][0]["weight"] == 4   # monitor off: configured


def test_real_listeners_end_to_end():
    events = []

    async def go():
        async with tcp_server(read_first=False) as port:
            scheduler = Scheduler(events.append)
            scheduler.apply_plan([CheckSpec(id="up", address="127.0.0.1", port=port, **FAST),
                                  CheckSpec(id="down", address="127.0.0.1", port=closed_port(), **FAST)])
            await asyncio.sleep(0.3)
        while states(events)[-1:] != [("up", False)]:           # the listener has gone
            await asyncio.sleep(0.01)
        await scheduler.close()
        return scheduler.checks_run
    checks = asyncio.run(asyncio.wait_for(go(), 10))
    assert states(events) in ([("up", True), ("down", False), ("up", False)],
                              [("down", False), ("up", True), ("up", False)])
    assert checks >= 4
