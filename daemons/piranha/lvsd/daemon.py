"""lvsd's event loop: reconcile IPVS with lvs.cf and nanny's health, answer the control socket, supervise nanny.

Signal handlers only record the signal and wake the loop; the loop acts. lvsd owns the services of the
virtual servers it has been configured with: it creates them, edits them in place, deletes those that leave
the configuration, and deletes them all on a clean stop (SIGTERM), as Piranha's lvsd did on shutdown.
Services in the table that no lvs.cf of this run defined are left alone.

lvsd is the only writer of IPVS, so between full reads of the kernel table (at start, every RESYNC_EVERY
seconds, and after any refused operation) it diffs against a mirror of what it has applied: a burst of
health events on a 1,000-service table then costs a few dictionary look-ups, not 1,000 netlink dumps.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import time
from dataclasses import dataclass

from piranha.control.protocol import CommandError, serve
from piranha.lvsd.config import ConfigRefused, LoadedConfig, read_config
from piranha.lvsd.desired import (active_servers, active_virtuals, check_id, check_specs, desired_table,
                                  dest_port, forwarding, service_key, targets)
from piranha.lvsd.diff import Operation, operations
from piranha.lvsd.health import HealthBook
from piranha.lvsd.nanny_link import NannyLink
from piranha.lvsd.operator import DISABLED, DRAIN_POLL, OperatorBook
from piranha.lvsd.status import servers_json, table_json
from piranha.lvsd.syncd import SyncDaemonError, set_sync_daemon
from piranha.net.ipvs_fake import FakeIPVS
from piranha.net.ipvs_model import IPVSError, LiveService, ServiceKey, Timeouts

log = logging.getLogger("lvsd")

RESYNC_EVERY = 30.0        # seconds between full reconciles when nothing happens (repairs outside edits)
COALESCE = 0.02            # seconds to gather a burst of health events into one reconcile


@dataclass(frozen=True)
class Options:
    config_path: str
    socket_path: str
    nanny_argv: tuple[str, ...]
    ramp_step: float = 20.0
    restart_max: float = 30.0
    socket_group: str | None = "piranha"
    state_file: str | None = None          # operator decisions (drain/disable) kept here across restarts


class Lvsd:
    def __init__(self, options: Options, ipvs, loaded: LoadedConfig):
        self.options = options
        self.ipvs = ipvs
        self.loaded = loaded
        self.health = HealthBook(options.ramp_step)
        self.operator = OperatorBook(options.state_file)
        self.operator.load()
        self.started_at = time.time()
        self._next_drain_check: float | None = None
        self.owned: set[ServiceKey] = set()
        self.names: dict[ServiceKey, str] = {}
        self.nanny = NannyLink(list(options.nanny_argv), self._on_nanny_event, self._on_nanny_exit)
        self.nanny_state = "not started"
        self.nanny_restarts = 0
        self.exit_code = 0
        self.last_reload: dict = {"ok": True, "time": time.time(), "message": "started"}
        self._signals: list[int] = []
        self._wake: asyncio.Event | None = None
        self._dirty = True
        self._stopping = False
        self._restart_delay = 1.0
        self._restart_task: asyncio.Task | None = None
        self._mirror: FakeIPVS | None = None      # the table as lvsd last read and changed it
        self._next_full_read: float | None = None
        self.last_reconcile: dict = {}
        self._tasks: set[asyncio.Task] = set()    # plan sends in flight (kept referenced until done)

    # -- the loop --------------------------------------------------------------------------------------
    async def run(self, handle_signals: bool = True) -> int:
        """Serve until SIGTERM/SIGINT (or a fatal nanny death); the exit status. Tests running the loop
        outside the main thread pass handle_signals=False and call `_record_signal` themselves."""
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        signals = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for signum in signals:
            loop.add_signal_handler(signum, self._record_signal, signum)
        server = await serve(self.options.socket_path, self.handle, group=self.options.socket_group)
        try:
            self._apply_timeouts(None)
            self._plan()
            self.reconcile()
            await self._start_nanny()
            while not self._stopping:
                await self._sleep()
                self._handle_signals()
                if self._stopping:
                    break
                if self.health.tick(loop.time()):
                    self._dirty = True
                if self._next_drain_check is not None and loop.time() >= self._next_drain_check:
                    self._next_drain_check = None
                    self._check_drains()
                if self._dirty:
                    await asyncio.sleep(COALESCE)
                    self.reconcile()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            server.close()
            await self._shutdown()
        return self.exit_code

    def _record_signal(self, signum: int) -> None:
        self._signals.append(signum)
        self._wake.set()

    def wake(self) -> None:
        self._dirty = True
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self) -> None:
        """Wait for an event, a due weight-ramp step or the periodic full read of the kernel table."""
        loop = asyncio.get_running_loop()
        if self._next_full_read is None:
            self._next_full_read = loop.time() + RESYNC_EVERY
        until = self._next_full_read
        ramp = self.health.next_ramp()
        if ramp is not None:
            until = min(until, ramp)
        if self.operator.draining():
            self._next_drain_check = self._next_drain_check or loop.time() + DRAIN_POLL
            until = min(until, self._next_drain_check)
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.0, until - loop.time()))
        except asyncio.TimeoutError:
            pass
        self._wake.clear()
        if loop.time() >= self._next_full_read:
            self._next_full_read = loop.time() + RESYNC_EVERY
            self._mirror = None             # a full read repairs any change made behind lvsd's back
            self._dirty = True

    def _handle_signals(self) -> None:
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum == signal.SIGHUP:
                try:
                    self.reload()
                except CommandError:
                    pass        # logged by reload; the running table stays
            else:
                log.info("shutting down due to signal %d", signum)
                self._stopping = True

    # -- configuration ---------------------------------------------------------------------------------
    def reload(self) -> dict:
        log.info("rereading configuration file")
        try:
            loaded = read_config(self.options.config_path)
        except ConfigRefused as exc:
            for problem in exc.problems:
                log.error("%s", problem)
            log.error("configuration refused; the running table stays (serial %s)", self.loaded.serial)
            self.last_reload = {"ok": False, "time": time.time(), "message": str(exc)}
            raise CommandError(str(exc)) from None
        old, self.loaded = self.loaded, loaded
        self._apply_timeouts(old)
        self._plan()
        self.wake()
        self.last_reload = {"ok": True, "time": time.time(), "message": f"serial {loaded.serial}"}
        task = asyncio.get_running_loop().create_task(self.nanny.send_plan(check_specs(self.loaded.config)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"serial": loaded.serial, "checksum": loaded.checksum}

    def _plan(self) -> None:
        planned = targets(self.loaded.config)
        self.health.plan(planned)
        self.operator.keep_only(planned)

    def _apply_timeouts(self, old: LoadedConfig | None) -> None:
        config = self.loaded.config
        wanted = Timeouts(config.tcp_timeout or 0, config.tcpfin_timeout or 0, config.udp_timeout or 0)
        if old is not None:
            previous = Timeouts(old.config.tcp_timeout or 0, old.config.tcpfin_timeout or 0,
                                old.config.udp_timeout or 0)
            if previous == wanted:
                return
        if wanted == Timeouts():
            return
        try:
            self.ipvs.set_timeouts(wanted)
            log.info("IPVS timeouts set: tcp %d tcpfin %d udp %d (0 = unchanged)", wanted.tcp, wanted.tcpfin,
                     wanted.udp)
        except IPVSError as exc:
            log.error("setting IPVS timeouts failed: %s", exc)

    # -- reconcile -------------------------------------------------------------------------------------
    def reconcile(self) -> list[Operation]:
        """Apply the difference between the live table and the desired one; return what was done."""
        self._dirty = False
        started = time.monotonic()
        desired = desired_table(self.loaded.config, self.health, self.operator.overrides())
        try:
            live = self._live()
        except IPVSError as exc:
            log.error("reading the IPVS table failed: %s", exc)
            self._dirty = True
            return []
        if not self.owned:
            foreign = [str(e.service.key) for e in live if e.service.key not in desired.services]
            if foreign:
                log.info("leaving IPVS services lvs.cf does not define: %s", ", ".join(foreign))
        names = {key: want.name for key, want in desired.services.items()}
        done = []
        for op in operations(live, desired, self.owned):
            name = names.get(op.key) or self.names.get(op.key, str(op.key))
            try:
                op.apply(self.ipvs)
            except IPVSError as exc:
                log.error("ipvsadm failed for virtual server %s! %s: %s", name, op, exc)
                self._mirror = None
                continue
            if self._mirror is not None:
                try:
                    op.apply(self._mirror)
                except IPVSError:
                    self._mirror = None
            done.append(op)
            self._log_operation(op, name, desired)
        self.owned = set(desired.services)
        self.names = names
        self.last_reconcile = {"time": time.time(), "seconds": round(time.monotonic() - started, 4),
                               "operations": len(done), "serial": self.loaded.serial}
        return done

    def _live(self) -> list[LiveService]:
        if self._mirror is None:
            self._mirror = FakeIPVS.mirror(self.ipvs.table())
        return self._mirror.table()

    def _log_operation(self, op: Operation, name: str, desired) -> None:
        want = desired.services.get(op.key)
        if op.verb == "add_service":
            log.info("starting virtual service %s active: %s", name, op.key.fwmark or op.key.port)
        elif op.verb == "delete_service":
            log.info("shutting down virtual service %s", name)
        elif op.verb == "add_dest" and want is not None and want.sorry == op.dest.ident:
            log.warning("Virtual Server %s: No real servers; activate sorry_server %s", name, op.dest.address)
        else:
            log.info("%s: %s", name, op)

    # -- nanny -----------------------------------------------------------------------------------------
    async def _start_nanny(self) -> None:
        self.nanny.plan = check_specs(self.loaded.config)
        try:
            await self.nanny.start()
            self.nanny_state = "running"
        except OSError as exc:
            log.error("cannot start nanny %s: %s", " ".join(self.nanny.argv), exc)
            self._on_nanny_exit(127)

    def _on_nanny_event(self, event: dict) -> None:
        now = asyncio.get_running_loop().time()
        op = event.get("op")
        if op == "state":
            changed = self.health.state(str(event.get("id")), bool(event.get("up")), str(event.get("result", "")),
                                        float(event.get("latency_ms") or 0.0), event.get("time"), now)
        elif op == "resync":
            changed = self.health.resync(event.get("states") or [], now)
            self._restart_delay = 1.0
        elif op == "weight":
            changed = self.health.load_weight(str(event.get("id")), int(event.get("weight", 0)))
        else:
            log.warning("nanny sent an unknown event %r", op)
            return
        if changed:
            self.wake()

    def _on_nanny_exit(self, code: int) -> None:
        if self._stopping:
            return
        if self.loaded.config.hard_shutdown:
            log.critical("nanny died (exit status %d)! shutting down lvs (hard_shutdown = 1)", code)
            self.nanny_state = f"died (exit status {code})"
            self.exit_code = 1
            self._stopping = True
            self._wake.set()
            return
        delay, self._restart_delay = self._restart_delay, min(self._restart_delay * 2, self.options.restart_max)
        log.error("nanny died (exit status %d)! restarting it in %g s (hard_shutdown = 0)", code, delay)
        self.nanny_state = f"restarting (exit status {code})"
        self.nanny_restarts += 1
        self._restart_task = asyncio.get_running_loop().create_task(self._restart_nanny(delay))

    async def _restart_nanny(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self._stopping:
            await self._start_nanny()

    async def _shutdown(self) -> None:
        self._stopping = True
        if self._restart_task is not None:
            self._restart_task.cancel()
        await self.nanny.stop()
        self.nanny_state = "stopped"
        for key in sorted(self.owned, key=ServiceKey.sort_key):
            try:
                self.ipvs.delete_service(key)
                log.info("shutting down virtual service %s", self.names.get(key, key))
            except IPVSError as exc:
                if exc.code != errno.ESRCH:
                    log.error("removing virtual service %s failed: %s", self.names.get(key, key), exc)
        self.owned.clear()

    # -- control socket --------------------------------------------------------------------------------
    def handle(self, command: str, args: dict):
        if command == "status":
            return self.status(brief=bool(args.get("brief")))
        if command == "reload":
            return self.reload()
        if command == "syncd":
            return self.syncd(args.get("state"))
        if command in ("drain", "enable", "disable"):
            return self.operator_action(command, args)
        raise CommandError(f"unknown command {command!r} (lvsd knows status, reload, syncd, drain, enable, "
                           "disable)")

    def status(self, brief: bool = False) -> dict:
        """The daemon's state; with brief, without the table and the servers (cheap to poll)."""
        summary = {
            "daemon": "lvsd",
            "config": {"path": self.loaded.path, "serial": self.loaded.serial, "checksum": self.loaded.checksum,
                       "last_reload": self.last_reload},
            "nanny": {"pid": self.nanny.pid, "state": self.nanny_state, "restarts": self.nanny_restarts,
                      "uptime": self.nanny.uptime},
            "last_reconcile": self.last_reconcile,
            "pending": self._dirty,
            "uptime": round(time.time() - self.started_at, 3),
            "operator": self.operator.entries,
        }
        if brief:
            return summary
        try:
            live = self.ipvs.table()
        except IPVSError as exc:
            raise CommandError(f"reading the IPVS table failed: {exc}") from None
        config = self.loaded.config
        return {
            **summary,
            "table": table_json(live, self.names),
            "servers": servers_json(config, self.health, live, self.operator.entries),
            "sync_daemons": [vars(d) for d in self.ipvs.sync_daemons()],
        }

    def syncd(self, state) -> dict:
        try:
            return {"sync_daemons": set_sync_daemon(self.ipvs, self.loaded.config, state)}
        except SyncDaemonError as exc:
            raise CommandError(str(exc)) from None

    # -- operator decisions ----------------------------------------------------------------------------
    def _dest_of(self, ident: str):
        """(service key, dest ident) of the planned real server `ident`."""
        config = self.loaded.config
        fwd = forwarding(config)
        for virtual in active_virtuals(config):
            key = service_key(virtual)
            for server in active_servers(virtual):
                if check_id(virtual, server) == ident:
                    return key, (server.address, dest_port(virtual, key, fwd, virtual.real_port(server)))
        return None

    def _active_conns(self, idents: list[str]) -> dict[str, int | None]:
        """Active connections of each server as the kernel counts them now (None = not in the table)."""
        live = {(e.service.key, d.dest.ident): d.active_conns for e in self.ipvs.table() for d in e.dests}
        return {ident: live.get(self._dest_of(ident)) for ident in idents}

    def operator_action(self, command: str, args: dict) -> dict:
        ident = args.get("server")
        if not isinstance(ident, str) or ident not in self.health.targets:
            known = ", ".join(sorted(self.health.targets)) or "none"
            raise CommandError(f"{command}: no active real server {ident!r} in lvs.cf (VIRTUAL/SERVER; known: "
                               f"{known})")
        current = self.operator.entries.get(ident)
        if command == "enable":
            if not self.operator.enable(ident):
                raise CommandError(f"enable: {ident} is neither draining nor disabled")
        elif command == "disable":
            self.operator.disable(ident, time.time())
        else:
            timeout = args.get("timeout", 300)
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 86400:
                raise CommandError(f"drain: timeout {timeout!r} must be a number of seconds from 1 to 86400")
            if current is not None and current["state"] == DISABLED:
                raise CommandError(f"drain: {ident} is already out ({current['reason']}); enable it first")
            try:
                active = self._active_conns([ident])[ident] or 0
            except IPVSError as exc:
                raise CommandError(f"drain: reading the IPVS table failed: {exc}") from None
            self.operator.drain(ident, float(timeout), active, time.time())
        self.wake()
        return {"server": ident, "admin": self.operator.entries.get(ident)}

    def _check_drains(self) -> None:
        draining = self.operator.draining()
        if not draining:
            return
        try:
            counts = self._active_conns(draining)
        except IPVSError as exc:
            log.error("reading the IPVS table for draining servers failed: %s", exc)
            return
        if any(self.operator.progress(ident, counts[ident], time.time()) for ident in draining):
            self.wake()
