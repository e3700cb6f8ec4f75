"""The role state machine against PIRANHA-REFERENCE §3.3's transition table, and our additions."""

import itertools

import pytest

from piranha.pulse.state import (
    Activate, ChildFailed, Deactivate, Heartbeat, LinkChange, Log, Machine, MonitorFailed, PeerState, Reconfigure,
    Refuse, Release, ResendArps, RestartMonitors, Role, SendHeartbeat, Shutdown, Start, Takeover, Tick, Timing,
)

TIMING = Timing(keepalive=2.0, deadtime=5.0, child_backoff=30.0)


def started(role=Role.MASTER, active=False, fos=False, timing=TIMING, now=0.0) -> Machine:
    machine = Machine(role, timing, fos=fos)
    machine.step(Start(force_active=active), now)
    assert machine.active is active
    return machine


def kinds(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


# (partner says, local active?, local role) -> (expected type of main action or None, message, active after)
TABLE = {
    (PeerState.RUNNING, True, Role.BACKUP): (Deactivate, "partner active: deactivating lvs", False),
    (PeerState.RUNNING, True, Role.MASTER): (ResendArps, "partner active: resending arps", True),
    (PeerState.RUNNING, False, Role.BACKUP): (None, None, False),
    (PeerState.RUNNING, False, Role.MASTER): (None, None, False),
    (PeerState.STOPPED, False, Role.MASTER): (Activate, "backup inactive: activating lvs", True),
    (PeerState.STOPPED, False, Role.BACKUP): (Activate, "primary inactive: activating lvs", True),
    (PeerState.STOPPED, True, Role.MASTER): (None, None, True),    # after a STOPPED: see the test below
    (PeerState.STOPPED, True, Role.BACKUP): (None, None, True),
    (PeerState.STOPME, True, Role.MASTER): (Deactivate, "PARTNER HAS TOLD US TO GO INACTIVE!", False),
    (PeerState.STOPME, True, Role.BACKUP): (Deactivate, "PARTNER HAS TOLD US TO GO INACTIVE!", False),
    (PeerState.STOPME, False, Role.MASTER): (None, None, False),
    (PeerState.STOPME, False, Role.BACKUP): (None, None, False),
}


def test_table_covers_every_combination():
    assert set(TABLE) == set(itertools.product(PeerState, (True, False), Role))


@pytest.mark.parametrize("key", sorted(TABLE, key=str), ids=str)
def test_transition_table(key):
    said, active, role = key
    expected, message, active_after = TABLE[key]
    machine = started(role, active)
    machine.step(Heartbeat(PeerState.STOPPED), 0.5)   # the partner was last seen standing by
    machine.active = active
    actions = machine.step(Heartbeat(said), 1.0)
    main = [a for a in actions if isinstance(a, (Activate, Deactivate, ResendArps))]
    if expected is None:
        assert main == []
    else:
        assert main == [expected(message)]
    assert machine.active is active_after
    if expected in (Activate, Deactivate):   # the partner hears of the change at once
        assert actions[-1] == SendHeartbeat(PeerState.RUNNING if active_after else PeerState.STOPPED)


@pytest.mark.parametrize("blocker", ["link", "child"])
def test_stopped_partner_does_not_activate_a_blocked_node(blocker):
    machine = started(Role.MASTER)
    if blocker == "link":
        machine.step(LinkChange(up=False, detail="Primary NIC: link down"), 0.5)
    else:
        machine.step(ChildFailed("lvsd exited with status 1"), 0.5)
    assert kinds(machine.step(Heartbeat(PeerState.STOPPED), 1.0), Activate) == []
    assert kinds(machine.step(Tick(), 30.0), Activate) == []          # partner dead, still blocked


def test_timers_send_every_keepalive_and_activate_after_deadtime():
    machine = started(Role.BACKUP, now=0.0)
    assert machine.next_deadline() == 2.0
    assert machine.step(Tick(), 1.9) == []
    assert machine.step(Tick(), 2.0) == [SendHeartbeat(PeerState.STOPPED)]
    assert machine.send_at == 4.0
    machine.step(Heartbeat(PeerState.RUNNING), 3.0)          # re-arms the need timer to 8.0
    assert kinds(machine.step(Tick(), 7.9), Activate) == []
    actions = machine.step(Tick(), 8.0)
    assert Activate("partner dead: activating lvs") in actions
    assert machine.active and machine.partner.state is None


def test_no_backup_means_no_heartbeats_and_master_activates_after_deadtime():
    machine = started(Role.MASTER, timing=Timing(2.0, 5.0, backup_active=False))
    assert kinds(machine.step(Tick(), 2.0), SendHeartbeat) == []
    actions = machine.step(Tick(), 5.0)
    assert actions == [Activate("partner dead: activating lvs")]


def test_fos_master_without_backup_activates_at_once():
    machine = Machine(Role.MASTER, Timing(2.0, 5.0, backup_active=False), fos=True)
    assert machine.step(Start(), 0.0) == [Activate("no backup node: activating failover services")]


def test_forced_active_on_startup():
    machine = Machine(Role.BACKUP, TIMING)
    actions = machine.step(Start(force_active=True), 0.0)
    assert actions[0] == Activate("Forced active on startup: activating lvs")


def test_both_start_at_once_ends_with_exactly_one_active_the_master():
    a, b = started(Role.MASTER), started(Role.BACKUP)
    a.step(Heartbeat(PeerState.STOPPED), 0.1)
    b.step(Heartbeat(PeerState.STOPPED), 0.1)
    assert a.active and b.active                      # the tie...
    a.step(Heartbeat(PeerState.RUNNING), 0.2)
    b.step(Heartbeat(PeerState.RUNNING), 0.2)
    assert a.active and not b.active                  # ...the master wins


def test_no_failback_when_the_old_primary_returns():
    backup = started(Role.BACKUP)
    backup.step(Tick(), 5.0)
    assert backup.active
    primary = started(Role.MASTER, now=6.0)
    assert primary.step(Heartbeat(PeerState.RUNNING), 6.1) == []
    assert not primary.active
    assert backup.step(Heartbeat(PeerState.STOPPED), 6.2) == [ResendArps("partner inactive: resending arps")]
    assert backup.active


def test_link_failure_deactivates_and_blocks_until_restored():
    machine = started(Role.MASTER, active=True)
    actions = machine.step(LinkChange(up=False, detail="Primary NIC: link down"), 1.0)
    assert Log("Local NIC link failure: Pulse disabled", "error") in actions
    assert Deactivate("local link failure: deactivating lvs") in actions
    assert machine.step(LinkChange(up=False), 1.5) == []
    assert kinds(machine.step(Tick(), 50.0), Activate) == []
    assert machine.step(LinkChange(up=True), 51.0) == [Log("Local NIC link(s) restored: Pulse enabled")]
    assert kinds(machine.step(Heartbeat(PeerState.STOPPED), 52.0), Activate)


def test_restored_link_waits_a_deadtime_for_the_partner_before_declaring_it_dead():
    machine = started(Role.MASTER, active=True)
    machine.step(LinkChange(up=False), 1.0)
    machine.step(Tick(), 50.0)           # partner unheard while the link was down: next deadline 55.0
    machine.step(LinkChange(up=True), 54.9)
    assert kinds(machine.step(Tick(), 55.0), Activate) == []
    assert machine.step(Heartbeat(PeerState.RUNNING), 55.1) == []
    assert not machine.active           # the backup keeps serving: no failback after a link flap


def test_child_failure_backs_off_and_doubles():
    machine = started(Role.MASTER, active=True)
    actions = machine.step(ChildFailed("lvsd exited with status 1"), 10.0)
    assert Deactivate("child failure: deactivating lvs") in actions
    assert "backing off" in kinds(actions, Log)[0].message
    assert kinds(machine.step(Heartbeat(PeerState.STOPPED), 39.0), Activate) == []
    assert kinds(machine.step(Heartbeat(PeerState.STOPPED), 40.0), Activate)
    machine.step(ChildFailed("lvsd exited with status 1"), 41.0)
    assert machine.child_hold_until == 41.0 + 60.0


def test_partner_running_clears_an_expired_child_failure():
    machine = started(Role.BACKUP)
    machine.step(ChildFailed("lvsd did not start"), 0.0)
    machine.step(Heartbeat(PeerState.RUNNING), 10.0)
    assert machine.child_failed
    machine.step(Heartbeat(PeerState.RUNNING), 31.0)
    assert not machine.child_failed


def test_takeover_from_the_backup_makes_the_master_yield_and_does_not_fail_back():
    master, backup = started(Role.MASTER, active=True), started(Role.BACKUP)
    backup.step(Heartbeat(PeerState.RUNNING), 1.0)
    actions = backup.step(Takeover(), 1.5)
    assert actions == [Activate("takeover requested: activating lvs"), SendHeartbeat(PeerState.STOPME)]
    assert backup.step(Heartbeat(PeerState.RUNNING), 1.6) == []        # still waiting for the master to yield
    actions = master.step(Heartbeat(PeerState.STOPME), 1.7)
    assert Deactivate("PARTNER HAS TOLD US TO GO INACTIVE!") in actions
    backup.step(Heartbeat(PeerState.STOPPED), 1.8)
    assert backup.own_state() is PeerState.RUNNING
    assert master.step(Heartbeat(PeerState.RUNNING), 1.9) == []
    assert backup.active and not master.active


def test_takeover_and_release_refusals():
    active = started(Role.MASTER, active=True)
    assert active.step(Takeover(), 1.0) == [Refuse("this node is already active")]
    assert active.step(Release(), 1.0) == [Refuse("the partner is not alive: releasing would leave no director active")]
    inactive = started(Role.BACKUP)
    assert inactive.step(Release(), 1.0) == [Refuse("this node is not active")]
    inactive.step(LinkChange(up=False), 1.0)
    assert inactive.step(Takeover(), 1.0) == [Refuse("local link failure: this node cannot take over")]


def test_release_hands_over_and_holds_off_until_the_partner_runs():
    master = started(Role.MASTER, active=True)
    master.step(Heartbeat(PeerState.STOPPED), 1.0)
    actions = master.step(Release(), 1.5)
    assert actions == [Deactivate("release requested: deactivating lvs"), SendHeartbeat(PeerState.STOPPED)]
    assert master.step(Heartbeat(PeerState.STOPPED), 1.6) == []     # partner has not reacted yet: no flap back
    master.step(Heartbeat(PeerState.RUNNING), 2.0)
    assert not master.active


def test_release_hold_expires_when_the_partner_never_takes_over():
    master = started(Role.MASTER, active=True)
    master.step(Heartbeat(PeerState.STOPPED), 1.0)
    master.step(Release(), 1.5)
    assert kinds(master.step(Heartbeat(PeerState.STOPPED), 6.6), Activate)


def test_fos_monitor_failure_with_gateway_takes_over_with_stopme():
    machine = started(Role.BACKUP, fos=True)
    machine.step(Heartbeat(PeerState.RUNNING), 1.0)
    actions = machine.step(MonitorFailed(gateway_ok=True), 2.0)
    assert Activate("partner service failed: activating failover services") in actions
    assert actions[-1] == SendHeartbeat(PeerState.STOPME)


def test_fos_monitor_failure_without_gateway_waits_for_a_heartbeat_then_restarts_monitors():
    machine = started(Role.BACKUP, fos=True)
    machine.step(Heartbeat(PeerState.RUNNING), 1.0)
    assert machine.step(MonitorFailed(gateway_ok=False), 2.0) == [Log("I SEEM TO HAVE A NETWORK FAULT!", "error")]
    assert not machine.active
    actions = machine.step(Heartbeat(PeerState.RUNNING), 3.0)
    assert kinds(actions, RestartMonitors)
    assert machine.step(Heartbeat(PeerState.RUNNING), 4.0) == []


def test_simultaneous_takeover_requests_resolve_to_the_master():
    master, backup = started(Role.MASTER), started(Role.BACKUP)
    master.step(Heartbeat(PeerState.RUNNING), 0.5)
    backup.step(Heartbeat(PeerState.RUNNING), 0.5)
    master.step(Takeover(), 1.0)
    backup.step(Takeover(), 1.0)
    master.step(Heartbeat(PeerState.STOPME), 1.1)
    backup.step(Heartbeat(PeerState.STOPME), 1.1)
    assert master.active and not backup.active


def test_reconfigure_applies_new_timing_to_running_timers():
    machine = started(Role.BACKUP)
    machine.step(Heartbeat(PeerState.RUNNING), 1.0)
    machine.step(Reconfigure(Role.BACKUP, Timing(0.2, 0.6)), 1.1)
    assert machine.send_at == pytest.approx(1.3)
    assert machine.need_at == pytest.approx(1.6)
    assert kinds(machine.step(Tick(), 1.6), Activate)


def test_reconfigure_role_change_is_logged():
    machine = started(Role.BACKUP)
    assert machine.step(Reconfigure(Role.MASTER, TIMING), 1.0) == [Log("role changed by reload: now master", "warning")]
    assert machine.role is Role.MASTER


def test_shutdown_deactivates_an_active_node():
    machine = started(Role.MASTER, active=True)
    actions = machine.step(Shutdown("Terminating due to signal 15"), 1.0)
    assert Deactivate("Terminating due to signal 15: deactivating lvs") in actions
    assert started(Role.MASTER).step(Shutdown("Terminating due to signal 15"), 1.0) == [
        Log("Terminating due to signal 15")]


@pytest.mark.parametrize("before", [None, PeerState.RUNNING, PeerState.STOPME])
def test_active_node_reannounces_when_a_dead_or_active_partner_stands_down(before):
    machine = started(Role.MASTER, active=True)
    if before is not None:
        machine.step(Heartbeat(before), 0.5)
        machine.active = True
    actions = machine.step(Heartbeat(PeerState.STOPPED), 1.0)
    assert actions == [ResendArps("partner inactive: resending arps")]
    assert machine.step(Heartbeat(PeerState.STOPPED), 1.2) == []


@pytest.mark.parametrize("partner", [None, PeerState.STOPPED, PeerState.STOPME])
def test_fos_monitor_failure_of_a_partner_that_is_not_serving_parks_monitors_until_it_serves(partner):
    machine = started(Role.BACKUP, fos=True)
    if partner is not None:
        machine.step(Heartbeat(partner), 1.0)
        machine.active = False
    assert machine.step(MonitorFailed(gateway_ok=True), 2.0) == [
        Log("partner not active: monitors parked until it serves")]
    assert not machine.active
    assert kinds(machine.step(Heartbeat(PeerState.STOPME), 2.5), RestartMonitors) == []
    assert machine.step(Heartbeat(PeerState.RUNNING), 3.0) == [RestartMonitors("partner serving: restarting monitors")]
    assert machine.step(Heartbeat(PeerState.RUNNING), 3.2) == []


def test_fos_monitor_failure_while_backing_off_restarts_monitors():
    machine = started(Role.BACKUP, fos=True)
    machine.step(ChildFailed("fos could not start the failover services"), 0.5)
    machine.step(Heartbeat(PeerState.RUNNING), 1.0)
    actions = machine.step(MonitorFailed(gateway_ok=True), 2.0)
    assert kinds(actions, RestartMonitors) and not machine.active


def test_a_blocked_node_says_once_that_it_stays_inactive_when_the_partner_dies():
    machine = started(Role.BACKUP)
    machine.step(Heartbeat(PeerState.RUNNING), 1.0)
    machine.step(LinkChange(up=False, detail="Primary NIC: link down"), 1.5)
    first = machine.step(Tick(), 6.0)
    assert Log("partner dead but local link failure: staying inactive", "warning") in first
    assert kinds(machine.step(Tick(), 11.0), Log) == []
