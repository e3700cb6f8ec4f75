"""pulse's event loop: feeds the state machine and carries out what it decides.

Everything happens on one asyncio loop: heartbeats arrive as events, timers fire as Tick events, signal
handlers and control commands queue events, and each event's actions (VIPs, ARPs, lvsd or fos, heartbeats)
are executed in order before the next event is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, replace

from piranha.net.addresses import Addresses
from piranha.net.links import LinkWatch
from piranha.pulse.channel import HeartbeatChannel
from piranha.pulse.children import Child, Lvsd, run_command
from piranha.pulse.gateway import gateway_reachable
from piranha.pulse.heartbeat import HeartbeatCodec
from piranha.pulse.reload import reload
from piranha.pulse.settings import PulseSettings
from piranha.pulse.state import (
    Activate, ChildFailed, Deactivate, Heartbeat, LinkChange, Log, Machine, MonitorFailed, RestartMonitors,
    ResendArps, SendHeartbeat, Shutdown, Start, Tick,
)
from piranha.pulse.vips import VipOwner

log = logging.getLogger("pulse")

LINK_POLL = 0.2            # seconds between link checks when monitor_links is on
FOS_START_FAILED = 3       # fos --active exit status when a start_cmd failed


@dataclass(frozen=True)
class Options:
    config_path: str
    socket_path: str
    pidfile: str | None = None
    force_active: bool = False
    verbose: bool = False
    test_start: bool = False
    no_lvsd: bool = False
    lvsd_command: str = "lvsd"
    lvsd_socket: str = "/run/piranha/lvsd.sock"
    fos_command: str = "fos"
    arp_repeats: int = 5
    arp_interval: float = 1.0
    child_backoff: float = 30.0


class Pulse:
    def __init__(self, options: Options, settings: PulseSettings, net: Addresses) -> None:
        self.options = options
        self.settings = settings
        self.net = net
        self.machine = Machine(settings.role, self._timing(settings), fos=settings.mode == "fos")
        self.events: asyncio.Queue = asyncio.Queue()
        self.lock = asyncio.Lock()
        self.vips = VipOwner(net, dry_run=options.test_start, arp_repeats=options.arp_repeats,
                             arp_interval=options.arp_interval, service_word=self.machine.service_word)
        self.lvsd = Lvsd(options.lvsd_command, options.lvsd_socket, self._child_failed)
        self.fos = Child("fos", self._fos_exited)
        self.codec = self._codec(settings)
        self.channel: HeartbeatChannel | None = None
        self.links = self._links(settings)
        self.link_problems: list[str] = []
        self.stopping = False
        self.started_at = 0.0
        self._activation: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    # ---- construction helpers ----------------------------------------------------------------------------

    def _timing(self, settings: PulseSettings):
        return replace(settings.timing, child_backoff=self.options.child_backoff)

    def _codec(self, settings: PulseSettings) -> HeartbeatCodec:
        return HeartbeatCodec(settings.mode, settings.own_public, settings.partner_public or "", key=settings.key)

    def _links(self, settings: PulseSettings) -> LinkWatch | None:
        if not settings.monitor_links:
            return None
        return LinkWatch(self.net, {"Primary": settings.own_public, "Private": settings.own_private})

    def _paths(self, settings: PulseSettings) -> list[tuple[str, str | None]]:
        paths = [(settings.own_public, settings.partner_public)]
        if settings.own_private:
            paths.append((settings.own_private, settings.partner_private))
        return paths

    async def open_channel(self) -> None:
        self.channel = HeartbeatChannel(self.codec, self.settings.heartbeat_port, self._paths(self.settings),
                                        lambda state: self.events.put_nowait(Heartbeat(state)))
        await self.channel.open()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- the loop --------------------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self.started_at = loop.time()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.events.put_nowait, Shutdown(f"Terminating due to signal {signum}"))
        loop.add_signal_handler(signal.SIGHUP, self.events.put_nowait, "reload")
        log.info("STARTING PULSE AS %s", self.settings.role.name)
        self.vips.clear_stale(self.settings.vips)
        await self._go_standby()
        await self.handle(Start(force_active=self.options.force_active))
        while not self.stopping:
            timeout = max(0.0, self.machine.next_deadline() - loop.time())
            if self.links:
                timeout = min(timeout, LINK_POLL)
            try:
                event = await asyncio.wait_for(self.events.get(), timeout)
            except asyncio.TimeoutError:
                event = Tick()
            if event == "reload":
                try:
                    await reload(self)
                except Exception as exc:   # a refused reload keeps the node running
                    log.error("reload refused: %s", exc)
                continue
            await self.handle(event)
            if self.links and not isinstance(event, Shutdown):
                await self._check_links()
        if self.channel:
            self.channel.close()
        for task in list(self._tasks):
            task.cancel()
        await self.fos.stop()
        await self.lvsd.stop()
        return 0

    async def handle(self, event) -> list:
        async with self.lock:
            if isinstance(event, Shutdown):
                self.stopping = True
            actions = self.machine.step(event, asyncio.get_running_loop().time())
            for action in actions:
                await self._execute(action)
            return actions

    async def _check_links(self) -> None:
        problems = self.links.failures()
        if problems != self.link_problems:
            self.link_problems = problems
            await self.handle(LinkChange(up=not problems, detail="; ".join(problems)))

    # ---- actions ---------------------------------------------------------------------------------------

    async def _execute(self, action) -> None:
        if isinstance(action, SendHeartbeat):
            if self.channel:
                self.channel.send(action.state)
        elif isinstance(action, Activate):
            log.info("%s", action.reason)
            await self._activate()
        elif isinstance(action, Deactivate):
            log.info("%s", action.reason)
            await self._deactivate()
        elif isinstance(action, ResendArps):
            log.info("%s", action.reason)
            self._run_cmd(self.settings.active_cmd, "active_cmd")
            self.vips.reannounce()
        elif isinstance(action, RestartMonitors):
            log.info("%s", action.reason)
            await self._start_fos("--monitor")
        elif isinstance(action, Log):
            log.log(logging.getLevelName(action.level.upper()), "%s", action.message)

    def _run_cmd(self, argv: tuple[str, ...], what: str) -> None:
        if not argv:
            return
        if self.options.test_start:
            log.info("test-start: would run %s %s", what, " ".join(argv))
            return
        self.spawn(run_command(argv, what))

    async def _activate(self) -> None:
        if self.settings.mode == "fos":
            await self.fos.stop()
            self.vips.take(self.settings.vips)
            await self._start_fos("--active")
            return
        self._run_cmd(self.settings.active_cmd, "active_cmd")
        self.vips.take(self.settings.vips)
        if not (self.options.no_lvsd or self.options.test_start):
            self._activation = self.spawn(self._start_lvsd())

    async def _start_lvsd(self) -> None:
        if not await self.lvsd.start_lvsd(self.settings.path, self.options.verbose):
            return      # reported through _child_failed
        if self.settings.syncdaemon:
            await self.lvsd.syncd("master")

    async def _deactivate(self) -> None:
        if self.settings.mode == "fos":
            self.vips.drop()
            await self.fos.stop()
            if not self.stopping:
                await self._start_fos("--monitor")
            return
        self._run_cmd(self.settings.inactive_cmd, "inactive_cmd")
        self.vips.drop()
        if self._activation and not self._activation.done():
            self._activation.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._activation      # so a half-started lvsd is known below and stopped
        if self.lvsd.pid is not None:
            if self.settings.syncdaemon:
                await self.lvsd.syncd("backup")
            await self.lvsd.stop()

    async def _go_standby(self) -> None:
        """Start-up on standby (§3.2 step 7): inactive_cmd in LVS mode, the partner's monitors in FOS mode."""
        if self.settings.mode == "fos":
            await self._start_fos("--monitor")
        else:
            self._run_cmd(self.settings.inactive_cmd, "inactive_cmd")
            if self.settings.syncdaemon and not (self.options.no_lvsd or self.options.test_start):
                # No lvsd runs on a standby: a one-shot lvsd starts the backup sync daemon, so this node
                # holds the active node's connection table when it takes over.
                argv = (self.lvsd.command, "--syncd", "backup", "-c", self.settings.path)
                self.spawn(run_command(argv, "lvsd --syncd backup"))

    async def _start_fos(self, mode: str) -> None:
        if self.options.test_start:
            log.info("test-start: would start fos %s", mode)
            return
        argv = (self.options.fos_command, mode, "-c", self.settings.path, "--nodaemon")
        await self.fos.start(argv + (("-v",) if self.options.verbose else ()))

    def _child_failed(self, detail: str) -> None:
        if self.machine.active and not self.stopping:
            self.events.put_nowait(ChildFailed(detail))

    def _fos_exited(self, detail: str) -> None:
        if self.stopping:
            return
        if "--monitor" in self.fos.argv:
            self.spawn(self._monitor_failed())
        elif self.fos.proc is not None and self.fos.proc.returncode == FOS_START_FAILED:
            self.events.put_nowait(ChildFailed("fos could not start the failover services"))
        else:
            log.warning("fos process exited -- restarting it")
            self.spawn(self._start_fos("--active"))

    async def _monitor_failed(self) -> None:
        self.events.put_nowait(MonitorFailed(gateway_ok=await gateway_reachable(self.net)))

    # ---- status ----------------------------------------------------------------------------------------

    async def status(self) -> dict:
        now = asyncio.get_running_loop().time()
        m, s = self.machine, self.settings
        heard = m.partner.last_heard
        partner_state = m.partner.state.value if m.partner.state else ("dead" if heard is not None else "unknown")
        result = {
            "role": m.role.value,
            "mode": s.mode,
            "active": m.active,
            "address": s.own_public,
            "partner": {"address": s.partner_public, "private_address": s.partner_private,
                        "state": partner_state if s.timing.backup_active else "none",
                        "last_heartbeat_age": None if heard is None else round(now - heard, 3)},
            "vips": self.vips.describe(),
            "heartbeat": {"port": s.heartbeat_port, "keepalive": m.timing.keepalive, "deadtime": m.timing.deadtime,
                          "authenticated": self.codec.authenticated, "sent": self.channel.sent if self.channel else 0,
                          "counters": dict(self.codec.counters)},
            "link_failure": m.link_failed, "link_problems": self.link_problems,
            "child_failure": m.child_failed, "takeover_pending": m.takeover_pending,
            "config": {"path": s.path, "serial_no": s.serial_no, "checksum": s.checksum},
            "uptime": round(now - self.started_at, 3),
            "arps_sent": self.vips.arps_sent,
        }
        if s.mode == "fos":
            result["fos"] = self.fos.describe()
        elif self.options.no_lvsd or self.options.test_start:
            result["lvsd"] = {"state": "disabled", "pid": None, "error": None}
        else:
            result["lvsd"] = await self.lvsd.status()
        return result
