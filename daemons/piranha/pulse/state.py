"""pulse's role logic as a pure state machine: ``machine.step(event, now) -> [actions]``.

Time is an argument, never read here, so every transition of the reference's table (PIRANHA-REFERENCE §3.3)
is tested without sleeping. The daemon feeds events (timer ticks, heartbeats, link and child changes,
operator commands) and carries out the returned actions (VIPs, ARPs, lvsd/fos, heartbeats).

    m = Machine(Role.MASTER, Timing(keepalive=2, deadtime=5))
    m.step(Start(), now=0.0)          # [SendHeartbeat(STOPPED)]
    m.step(Tick(), now=5.0)           # [Activate("partner dead: activating lvs"), SendHeartbeat(RUNNING)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    MASTER = "master"
    BACKUP = "backup"


class PeerState(str, Enum):
    """What a heartbeat says about its sender."""

    RUNNING = "running"    # sender is active
    STOPPED = "stopped"    # sender is inactive
    STOPME = "stopme"      # sender is taking over: the receiver must go inactive


@dataclass(frozen=True)
class Timing:
    keepalive: float
    deadtime: float
    backup_active: bool = True        # False: no heartbeat is sent or expected (a lone director)
    child_backoff: float = 30.0       # first hold-off after lvsd/fos failed; doubles on each repeat
    child_backoff_max: float = 600.0


# ---- events -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Start:
    force_active: bool = False


@dataclass(frozen=True)
class Tick:
    """Time passed; timers that are due fire."""


@dataclass(frozen=True)
class Heartbeat:
    state: PeerState


@dataclass(frozen=True)
class LinkChange:
    up: bool
    detail: str = ""


@dataclass(frozen=True)
class ChildFailed:
    """lvsd (or fos --active) died or could not start its services."""

    detail: str


@dataclass(frozen=True)
class MonitorFailed:
    """FOS, inactive node: fos --monitor saw a partner service fail; gateway_ok is the local gateway check."""

    gateway_ok: bool


@dataclass(frozen=True)
class Takeover:
    pass


@dataclass(frozen=True)
class Release:
    pass


@dataclass(frozen=True)
class Reconfigure:
    role: Role
    timing: Timing


@dataclass(frozen=True)
class Shutdown:
    reason: str


# ---- actions ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activate:
    reason: str


@dataclass(frozen=True)
class Deactivate:
    reason: str


@dataclass(frozen=True)
class SendHeartbeat:
    state: PeerState


@dataclass(frozen=True)
class ResendArps:
    reason: str


@dataclass(frozen=True)
class RestartMonitors:
    reason: str


@dataclass(frozen=True)
class Log:
    message: str
    level: str = "info"


@dataclass(frozen=True)
class Refuse:
    """An operator command that cannot be carried out; the control socket returns the reason."""

    reason: str


@dataclass
class Partner:
    state: PeerState | None = None
    last_heard: float | None = None

    def alive(self, now: float, deadtime: float) -> bool:
        return self.last_heard is not None and now - self.last_heard < deadtime


@dataclass
class Machine:
    role: Role
    timing: Timing
    fos: bool = False
    active: bool = False
    link_failed: bool = False
    child_failed: bool = False
    child_hold_until: float = 0.0
    child_failures: int = 0
    network_fault: bool = False
    monitors_parked: bool = False
    takeover_pending: bool = False
    release_hold_until: float = 0.0
    partner: Partner = field(default_factory=Partner)
    send_at: float = 0.0
    need_at: float = 0.0

    @property
    def service_word(self) -> str:
        return "failover services" if self.fos else "lvs"

    def next_deadline(self) -> float:
        return min(self.send_at, self.need_at) if self.timing.backup_active else self.need_at

    def own_state(self) -> PeerState:
        if self.active and self.takeover_pending:
            return PeerState.STOPME
        return PeerState.RUNNING if self.active else PeerState.STOPPED

    def blocked_reason(self, now: float) -> str | None:
        """Why this node may not activate now, or None."""
        if self.link_failed:
            return "local link failure"
        if self.child_failed and now < self.child_hold_until:
            return f"child failure (backing off for {self.child_hold_until - now:.1f} s more)"
        return None

    def step(self, event, now: float) -> list:
        handler = getattr(self, "_on_" + type(event).__name__.lower())
        return handler(event, now)

    # ---- helpers ---------------------------------------------------------------------------------------

    def _activate(self, reason: str) -> list:
        self.active = True
        self.network_fault = self.monitors_parked = False
        return [Activate(reason), *self._heartbeat_now()]

    def _deactivate(self, reason: str) -> list:
        self.active = False
        self.takeover_pending = self.monitors_parked = False     # deactivation starts fresh monitors
        return [Deactivate(reason), *self._heartbeat_now()]

    def _heartbeat_now(self) -> list:
        """Tell the partner at once about a change of our state rather than at the next keepalive."""
        return [SendHeartbeat(self.own_state())] if self.timing.backup_active else []

    # ---- events ----------------------------------------------------------------------------------------

    def _on_start(self, event: Start, now: float) -> list:
        self.send_at = now + self.timing.keepalive
        self.need_at = now + self.timing.deadtime
        if event.force_active:
            return self._activate(f"Forced active on startup: activating {self.service_word}")
        if self.fos and self.role is Role.MASTER and not self.timing.backup_active:
            return self._activate(f"no backup node: activating {self.service_word}")
        return self._heartbeat_now()

    def _on_tick(self, event: Tick, now: float) -> list:
        actions: list = []
        if self.timing.backup_active and now >= self.send_at:
            actions.append(SendHeartbeat(self.own_state()))
            self.send_at = now + self.timing.keepalive
        if now >= self.need_at:
            self.need_at = now + self.timing.deadtime
            just_died = self.partner.state is not None
            if just_died:
                actions.append(Log("partner silent for deadtime: declared dead", "warning"))
            self.partner.state = None
            self.takeover_pending = False
            if not self.active:
                blocked = self.blocked_reason(now)
                if blocked:
                    if just_died:    # said once, not at every deadtime while the partner stays silent
                        actions.append(Log(f"partner dead but {blocked}: staying inactive", "warning"))
                else:
                    actions += self._activate(f"partner dead: activating {self.service_word}")
        return actions

    def _on_heartbeat(self, event: Heartbeat, now: float) -> list:
        previous = self.partner.state
        self.partner.state = event.state
        self.partner.last_heard = now
        self.need_at = now + self.timing.deadtime
        actions: list = []
        if self.network_fault and not self.active:
            self.network_fault = False
            actions.append(RestartMonitors("heartbeat received after a local network fault: restarting monitors"))
        elif self.monitors_parked and not self.active and event.state is PeerState.RUNNING:
            self.monitors_parked = False
            actions.append(RestartMonitors("partner serving: restarting monitors"))
        if event.state is PeerState.STOPME:
            if self.takeover_pending and self.role is Role.MASTER:
                return actions  # both asked at once: the master keeps it
            self.takeover_pending = False
            if self.active:
                actions += self._deactivate("PARTNER HAS TOLD US TO GO INACTIVE!")
            return actions
        if event.state is PeerState.RUNNING:
            self.release_hold_until = 0.0
            if self.child_failed and now >= self.child_hold_until:
                self.child_failed = False
            if not self.active or self.takeover_pending:
                return actions
            if self.role is Role.BACKUP:
                return actions + self._deactivate(f"partner active: deactivating {self.service_word}")
            return actions + [ResendArps("partner active: resending arps")]
        # STOPPED
        if self.active:
            self.takeover_pending = False
            if previous is not PeerState.STOPPED:
                # The partner was dead or active (split brain healing, a takeover): it may have had the VIPs,
                # and clients may still point at it. Piranha re-ARPed only on RUNNING, which the partner may
                # never send when it yields first.
                actions.append(ResendArps("partner inactive: resending arps"))
            return actions
        if now < self.release_hold_until:
            return actions
        blocked = self.blocked_reason(now)
        if blocked:
            return actions
        other = "backup" if self.role is Role.MASTER else "primary"
        return actions + self._activate(f"{other} inactive: activating {self.service_word}")

    def _on_linkchange(self, event: LinkChange, now: float) -> list:
        if not event.up:
            if self.link_failed:
                return []
            self.link_failed = True
            actions = [Log(event.detail or "link down", "error"), Log("Local NIC link failure: Pulse disabled", "error")]
            if self.active:
                actions += self._deactivate(f"local link failure: deactivating {self.service_word}")
            return actions
        if not self.link_failed:
            return []
        self.link_failed = False
        # Heartbeats could not arrive while the link was down: give the partner a full deadtime to be heard
        # before declaring it dead, or a restored master would activate beside an active backup.
        self.need_at = max(self.need_at, now + self.timing.deadtime)
        return [Log("Local NIC link(s) restored: Pulse enabled")]

    def _on_childfailed(self, event: ChildFailed, now: float) -> list:
        self.child_failures += 1
        hold = min(self.timing.child_backoff * 2 ** (self.child_failures - 1), self.timing.child_backoff_max)
        self.child_failed = True
        self.child_hold_until = now + hold
        actions: list = [Log(f"{event.detail}; failure {self.child_failures}: not activating again for "
                             f"{hold:g} s (backing off; piranha-ctl takeover overrides)", "error")]
        if self.active:
            actions += self._deactivate(f"child failure: deactivating {self.service_word}")
        return actions

    def _on_monitorfailed(self, event: MonitorFailed, now: float) -> list:
        if self.active:
            return []
        if self.partner.state is not PeerState.RUNNING:
            # The partner is not serving (stopped, dead, or yielding): the heartbeat rules decide, not the
            # monitor, which is parked until the partner says it serves again (no restart loop meanwhile).
            self.monitors_parked = True
            return [Log("partner not active: monitors parked until it serves")]
        if not event.gateway_ok:
            self.network_fault = True
            return [Log("I SEEM TO HAVE A NETWORK FAULT!", "error")]
        blocked = self.blocked_reason(now)
        if blocked:
            return [Log(f"partner service failed but {blocked}: staying inactive", "warning"),
                    RestartMonitors("restarting monitors")]
        actions: list = [Log("seems like a remote network fault; performing service failover", "warning")]
        self.takeover_pending = self.partner.alive(now, self.timing.deadtime)
        return actions + self._activate(f"partner service failed: activating {self.service_word}")

    def _on_takeover(self, event: Takeover, now: float) -> list:
        if self.active:
            return [Refuse("this node is already active")]
        if self.link_failed:
            return [Refuse("local link failure: this node cannot take over")]
        self.child_failed = False
        self.child_failures = 0
        self.release_hold_until = 0.0
        self.takeover_pending = self.partner.alive(now, self.timing.deadtime)
        return self._activate(f"takeover requested: activating {self.service_word}")

    def _on_release(self, event: Release, now: float) -> list:
        if not self.active:
            return [Refuse("this node is not active")]
        if not self.timing.backup_active or not self.partner.alive(now, self.timing.deadtime):
            return [Refuse("the partner is not alive: releasing would leave no director active")]
        self.release_hold_until = now + self.timing.deadtime
        return self._deactivate(f"release requested: deactivating {self.service_word}")

    def _on_reconfigure(self, event: Reconfigure, now: float) -> list:
        actions: list = []
        if event.role is not self.role:
            actions.append(Log(f"role changed by reload: now {event.role.value}", "warning"))
        self.role = event.role
        self.timing = event.timing
        self.send_at = min(self.send_at, now + event.timing.keepalive)
        heard = self.partner.state is not None and self.partner.last_heard is not None
        self.need_at = (self.partner.last_heard if heard else now) + event.timing.deadtime
        return actions

    def _on_shutdown(self, event: Shutdown, now: float) -> list:
        if not self.active:
            return [Log(event.reason)]
        return [Log(event.reason), *self._deactivate(f"{event.reason}: deactivating {self.service_word}")]
