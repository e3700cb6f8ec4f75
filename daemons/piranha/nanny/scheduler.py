"""The one scheduler of all checks: plans, timers, deduplication, health state and the events lvsd reads.

Probes only return Results; this module alone owns state. Checks that are identical (``spec.probe_key()``)
run once per interval and their verdict feeds the Health of every id that shares them. Timers are one heap
served by a single loop timer that wakes at most every ``TICK`` seconds, so ten thousand checks a second cost
about a hundred timer wake-ups, not ten thousand.

Events go to ``emit(dict)`` (see spec.py): "state" only on a transition, "weight" when the load monitor
re-weights an up server, "resync" after every plan and every ``resync_every`` seconds.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import time
from time import monotonic
from typing import Callable

from piranha.nanny import loadmon
from piranha.nanny.health import Health
from piranha.nanny.probes import Probe, Result, make_probe
from piranha.nanny.probes.base import endpoint
from piranha.nanny.probes.connect import close_engine
from piranha.nanny.spec import CheckSpec

log = logging.getLogger("nanny")

TICK = 0.005               # timer granularity, seconds: checks due within one tick start together
FIRST_CHECK_SPREAD = 1.0   # new checks start spread over min(interval, this), so a reload is seen quickly
NOT_CHECKED = "not checked yet"


class Member:
    """One id of the plan: a real server of one virtual server, with its own health and weight."""

    __slots__ = ("spec", "health", "result", "checked_at", "weight")

    def __init__(self, spec: CheckSpec):
        self.spec = spec
        self.health = Health(spec.failures, spec.reentry, spec.interval)
        self.result: Result | None = None
        self.checked_at: float | None = None   # wall-clock time of the last verdict
        self.weight = float(spec.weight)

    def renew(self, spec: CheckSpec) -> None:
        """Take a new plan's spec for this id: health state, last result and weight are kept."""
        if spec.weight != self.spec.weight or spec.load_monitor == "none":
            self.weight = float(spec.weight)      # the load monitor's adjustment ends with it
        self.spec = spec
        self.health.configure(spec.failures, spec.reentry, spec.interval)

    def state(self) -> dict:
        result = self.result
        return {"id": self.spec.id, "up": self.health.up is True,
                "result": result.message if result else NOT_CHECKED,
                "latency_ms": round(result.latency * 1000, 3) if result else 0.0,
                "time": self.checked_at, "weight": round(self.weight)}


class Group:
    """One probe run on behalf of every member that shares its probe_key."""

    __slots__ = ("key", "probe", "interval", "members", "due", "nominal", "task", "removed", "busy", "fast",
                 "on_result")

    def __init__(self, key: tuple, probe: Probe, interval: float):
        self.key = key
        self.probe = probe
        self.interval = interval
        self.members: list[Member] = []
        self.due = 0.0          # when the next check starts (loop time)
        self.nominal = 0.0      # the steady schedule the group keeps after its first check
        self.task: asyncio.Task | None = None      # a check running as a Task (UDP, send_program)
        self.removed = False
        self.busy = False                            # a check is in flight
        self.fast = callable(getattr(probe, "start", None))  # TCP: started by callback, no Task
        self.on_result: Callable[[Result], None] | None = None


class Scheduler:
    def __init__(self, emit: Callable[[dict], None], resync_every: float = 30.0,
                 probe_factory: Callable[[CheckSpec], Probe] = make_probe):
        self.emit = emit
        self.probe_factory = probe_factory
        self.resync_every = resync_every
        self.loop = asyncio.get_running_loop()
        self.members: dict[str, Member] = {}
        self.groups: dict[tuple, Group] = {}
        self.loads: dict[tuple, asyncio.Task] = {}
        self.checks_run = 0
        self._heap: list[tuple[float, int, Group]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._resync = self.loop.call_later(resync_every, self._periodic_resync) if resync_every > 0 else None

    # -- plans ---------------------------------------------------------------------------------------------

    def apply_plan(self, specs: list[CheckSpec]) -> None:
        """Replace the plan; raise ValueError (changing nothing) if it is invalid."""
        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            dups = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate check ids in plan: {', '.join(dups[:10])}")
        new_probes: dict[tuple, Probe] = {}
        for spec in specs:
            key = spec.probe_key()
            if key not in self.groups and key not in new_probes:
                new_probes[key] = self.probe_factory(spec)
            if spec.load_monitor != "none":
                loadmon.load_argv(spec)      # refuse a bad rsh_command now, not at the first load check

        members: dict[str, Member] = {}
        for spec in specs:
            member = self.members.get(spec.id)
            if member is None:
                member = Member(spec)
            else:
                member.renew(spec)
            members[spec.id] = member
        self.members = members

        groups: dict[tuple, Group] = {}
        for spec in specs:
            key = spec.probe_key()
            group = groups.get(key) or self.groups.get(key)
            if group is None:
                group = Group(key, new_probes[key], spec.interval)
                group.on_result = functools.partial(self._finish, group)
            if key not in groups:
                group.members = []
                groups[key] = group
            group.members.append(members[spec.id])
        for key, group in self.groups.items():
            if key not in groups:
                group.removed = True
                if group.task is not None:
                    group.task.cancel()
        fresh = [g for k, g in groups.items() if k not in self.groups]
        self.groups = groups
        self._start(fresh)
        self._plan_loads()
        log.info("plan: %d checks, %d probes (%d new)", len(members), len(groups), len(fresh))
        self.emit_resync()

    def _start(self, fresh: list[Group]) -> None:
        """Stagger new groups: first checks over min(interval, 1 s), then evenly over their interval."""
        now = self.loop.time()
        count = len(fresh)
        for index, group in enumerate(fresh):
            fraction = index / count
            group.nominal = now + fraction * group.interval + group.interval
            self._push(group, now + fraction * min(group.interval, FIRST_CHECK_SPREAD))
        self._arm(now)

    # -- timers --------------------------------------------------------------------------------------------

    def _push(self, group: Group, due: float) -> None:
        group.due = due
        heapq.heappush(self._heap, (due, next(self._seq), group))

    def _arm(self, now: float) -> None:
        if not self._heap:
            return
        at = max(self._heap[0][0], now + TICK)
        if at < self._timer_at - TICK:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(at, self._tick)
            self._timer_at = at

    def _tick(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        now = monotonic()               # what loop.time() returns, without the method call
        heap = self._heap
        horizon = now + TICK / 2
        create_task = self.loop.create_task
        while heap and heap[0][0] <= horizon:
            due, _, group = heapq.heappop(heap)
            if group.removed or due != group.due or group.busy:
                continue
            group.busy = True
            if group.fast:
                group.probe.start(group.on_result)
            else:
                group.task = create_task(self._run(group))
        self._arm(now)

    # -- checks --------------------------------------------------------------------------------------------

    async def _run(self, group: Group) -> None:
        try:
            result = await group.probe.check()
        except Exception as err:       # a probe bug must cost one verdict, not the daemon
            log.exception("probe for %s failed", group.members[0].spec.id if group.members else group.key)
            result = Result(False, f"probe error: {err!r}")
        finally:
            group.task = None
        self._finish(group, result)

    def _finish(self, group: Group, result: Result) -> None:
        """Apply one verdict to every member of the group and schedule the group's next check."""
        group.busy = False
        if group.removed:
            return
        self.checks_run += 1
        wall = time.time()
        for member in group.members:
            member.result = result
            member.checked_at = wall
            changed = member.health.step(result.up)
            if changed is not None:
                self._transition(member, changed, result, wall)
        now = monotonic()
        due = group.nominal
        if due <= now:                  # the check outlasted its interval: skip the missed slots
            due += (int((now - due) / group.interval) + 1) * group.interval
        group.nominal = due + group.interval
        self._push(group, due)
        if due < self._timer_at - TICK:
            self._arm(now)

    def _transition(self, member: Member, up: bool, result: Result, wall: float) -> None:
        spec = member.spec
        where = endpoint(spec.address, spec.port)
        if up:
            log.info("[ active ] making %s available (%s)", where, spec.id)
        else:
            log.info("[inactive] shutting down %s due to connection failure (%s): %s", where, spec.id,
                     result.message)
        self.emit({"op": "state", "id": spec.id, "up": up, "result": result.message,
                   "latency_ms": round(result.latency * 1000, 3), "time": wall})

    # -- load monitor --------------------------------------------------------------------------------------

    def _plan_loads(self) -> None:
        wanted: dict[tuple, CheckSpec] = {}
        for member in self.members.values():
            spec = member.spec
            if spec.load_monitor != "none":
                key = (spec.address, spec.load_monitor, spec.rsh_command, spec.timeout, loadmon.period(spec))
                wanted.setdefault(key, spec)
        for key in [k for k in self.loads if k not in wanted]:
            self.loads.pop(key).cancel()
        for key, spec in wanted.items():
            if key not in self.loads:
                self.loads[key] = self.loop.create_task(self._load_loop(key, spec))

    async def _load_loop(self, key: tuple, spec: CheckSpec) -> None:
        every = key[-1]
        while True:
            await asyncio.sleep(every)
            sharing = [m for m in self.members.values() if m.health.up and m.spec.load_monitor != "none" and
                       (m.spec.address, m.spec.load_monitor, m.spec.rsh_command, m.spec.timeout,
                        loadmon.period(m.spec)) == key]
            if not sharing:
                continue
            load, message = await loadmon.measure_load(spec)
            if load is None:
                log.warning("load monitor of %s: %s", spec.address, message)
                continue
            for member in sharing:
                self._reweight(member, load)

    def _reweight(self, member: Member, load: float) -> None:
        new = loadmon.next_weight(member.weight, member.spec.weight, load)
        if new is None:
            return
        before = round(member.weight)
        member.weight = new
        if round(new) != before:
            log.info("load %.2f on %s: weight %d -> %d", load, member.spec.id, before, round(new))
            self.emit({"op": "weight", "id": member.spec.id, "weight": round(new)})

    # -- resync and shutdown -------------------------------------------------------------------------------

    def emit_resync(self) -> None:
        self.emit({"op": "resync", "states": [m.state() for m in self.members.values()]})

    def _periodic_resync(self) -> None:
        self.emit_resync()
        self._resync = self.loop.call_later(self.resync_every, self._periodic_resync)

    async def close(self) -> None:
        """Stop every check and load command (killing running programs) and wait until they have ended."""
        if self._timer is not None:
            self._timer.cancel()
        if self._resync is not None:
            self._resync.cancel()
        tasks = [g.task for g in self.groups.values() if g.task is not None] + list(self.loads.values())
        for group in self.groups.values():
            group.removed = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        close_engine(self.loop)
        self.groups = {}
        self.loads = {}
        self._heap = []
