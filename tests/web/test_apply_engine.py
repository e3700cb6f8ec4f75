"""The Apply engine without Flask and without a backup: settings, ssh argv, failure causes, local reload."""

import asyncio
import os
import shlex
import subprocess
import sys
import threading

import pytest

from piranha.control.protocol import CommandError, serve
from piranha_web.apply import engine, failures, remote
from piranha_web.apply.local_reload import reload_local
from piranha_web.apply.settings import ApplySettings, Destination, SettingsError

SAMPLE = """serial_no = 4
primary = 192.0.2.10
service = lvs
backup_active = 0
backup = 192.0.2.11
network = direct
virtual web {
     active = 1
     address = 203.0.113.10 eth0:1
     port = 80
     scheduler = wlc
     protocol = tcp
     server web1 {
         address = 198.51.100.11
         active = 1
         weight = 1
     }
}
"""


@pytest.mark.parametrize("text, expected", [
    ("root@10.0.0.2", Destination("root", "10.0.0.2", None)),
    ("admin@backup.example:2222", Destination("admin", "backup.example", 2222)),
    ("10.0.0.2:22", Destination("root", "10.0.0.2", 22)),
    ("root@[2001:db8::2]:2200", Destination("root", "2001:db8::2", 2200)),
])
def test_destination_parses_user_host_port(text, expected):
    assert Destination.parse(text) == expected


@pytest.mark.parametrize("text, phrase", [
    ("root@host:99999", "port 99999 is outside 1-65535"),
    ("root@ho st", "is not user@host[:port]"),
    ("root@host;reboot", "is not user@host[:port]"),
    ("root@-oProxyCommand=x", "is not user@host[:port]"),
    ("-oProxyCommand=x@host", "is not user@host[:port]"),
    ("-Fevil", "is not user@host[:port]"),
])
def test_bad_destination_is_refused_with_the_value_quoted(text, phrase):
    with pytest.raises(SettingsError) as error:
        Destination.parse(text)
    assert phrase in str(error.value) and repr(text) in str(error.value)


def test_settings_read_the_documented_names_with_their_defaults():
    settings = ApplySettings.from_mapping({"PIRANHA_LVS_CF": "/etc/piranha/lvs.cf"}, environ={})
    assert settings.sync == "rsync" and settings.remote_path == "/etc/piranha/lvs.cf"
    assert settings.remote_reload == "piranha-ctl reload"
    assert settings.control_socket == "/run/piranha/pulse.sock"
    assert settings.destination("192.0.2.11") == Destination("root", "192.0.2.11")
    env = {"PIRANHA_SYNC": "ssh", "PIRANHA_BACKUP_SSH": "ops@10.9.9.9:2022", "PIRANHA_REMOTE_LVS_CF": "/x/lvs.cf"}
    settings = ApplySettings.from_mapping({"PIRANHA_LVS_CF": "/etc/piranha/lvs.cf"}, environ=env)
    assert (settings.sync, settings.remote_path) == ("ssh", "/x/lvs.cf")
    assert settings.destination("192.0.2.11") == Destination("ops", "10.9.9.9", 2022)
    with pytest.raises(SettingsError, match="PIRANHA_SYNC 'scp' is not one of"):
        ApplySettings.from_mapping({"PIRANHA_LVS_CF": "/x", "PIRANHA_SYNC": "scp"}, environ={})


def test_ssh_and_rsync_are_argv_lists_with_every_safety_option():
    settings = ApplySettings(lvs_cf="/etc/lvs.cf", ssh_key="/k/id", known_hosts="/k/known", connect_timeout=4,
                             remote_lvs_cf="/remote dir/lvs.cf")
    destination = Destination("root", "10.0.0.2", 2222)
    argv = remote.ssh_argv(settings, destination, ["sha256sum", "--", settings.remote_path])
    joined = " ".join(argv)
    for option in ("-F /dev/null", "-i /k/id", "BatchMode=yes", "StrictHostKeyChecking=yes",
                   "UserKnownHostsFile=/k/known", "ConnectTimeout=4", "-p 2222"):
        assert option in joined
    assert argv[-2:] == ["root@10.0.0.2", "sha256sum -- '/remote dir/lvs.cf'"]
    rsync = remote.rsync_argv(settings, destination, "/etc/lvs.cf")
    assert rsync[0] == "rsync" and shlex.split(rsync[rsync.index("-e") + 1]) == remote.ssh_base(settings, destination)
    assert rsync[-1] == "root@10.0.0.2:/remote dir/lvs.cf"


@pytest.mark.parametrize("stderr, cause", [
    ("ssh: connect to host 10.0.0.2 port 22: Connection refused", failures.UNREACHABLE),
    ("ssh: connect to host 10.0.0.2 port 22: No route to host", failures.UNREACHABLE),
    ("ssh: connect to host 10.0.0.2 port 22: Connection timed out", failures.UNREACHABLE),
    ("root@10.0.0.2: Permission denied (publickey).", failures.AUTH_REFUSED),
    ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.",
     failures.HOST_KEY_CHANGED),
    ("No ED25519 host key is known for 10.0.0.2 and you have requested strict checking.\n"
     "Host key verification failed.", failures.HOST_KEY_UNKNOWN),
    ('rsync: [receiver] mkstemp "/etc/.lvs.cf.x" failed: Permission denied (13)', failures.PERMISSION_DENIED),
    ("mv: cannot move '/etc/.lvs.cf.x': Read-only file system", failures.PERMISSION_DENIED),
    ("cat: write error: No space left on device", failures.DISK_FULL),
    ("sh: 1: piranha-ctl: not found", failures.REMOTE_COMMAND_FAILED),
])
def test_failure_causes_from_tool_output(stderr, cause):
    failure = failures.classify("backup", 255, stderr)
    assert failure.cause == cause
    assert failure.message.startswith(f"backup: {cause} (")


def test_unreachable_loopback_port_is_classified_for_real(tmp_path):
    """A real ssh to a closed port on loopback (nothing else is contacted)."""
    settings = ApplySettings(lvs_cf=str(tmp_path / "lvs.cf"), known_hosts=str(tmp_path / "known"), connect_timeout=2)
    with pytest.raises(remote.RemoteError) as error:
        remote.remote_checksum(settings, Destination("root", "127.0.0.1", 1))
    assert error.value.failure.cause == failures.UNREACHABLE
    assert "Connection refused" in error.value.failure.message


class _Pulse:
    """A real control socket in a thread, recording requests like pulse would receive them."""

    def __init__(self, path, refuse=False):
        self.path, self.refuse, self.requests = str(path), refuse, []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        def handler(command, args):
            self.requests.append(command)
            if self.refuse:
                raise CommandError("lvs.cf line 3: bad port")
            return "reloaded"
        self.server = self.loop.run_until_complete(serve(self.path, handler))
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_local_reload_through_the_control_socket(tmp_path):
    with _Pulse(tmp_path / "pulse.sock") as pulse:
        outcome = reload_local(str(tmp_path / "pulse.sock"), str(tmp_path / "pulse.pid"))
    assert outcome.ok and outcome.how == "socket" and pulse.requests == ["reload"]


def test_local_reload_refused_by_pulse_is_a_failure_with_its_reason(tmp_path):
    with _Pulse(tmp_path / "pulse.sock", refuse=True):
        outcome = reload_local(str(tmp_path / "pulse.sock"), str(tmp_path / "pulse.pid"))
    assert not outcome.ok and "bad port" in outcome.message


def test_local_reload_falls_back_to_sighup_from_the_pidfile(tmp_path):
    marker = tmp_path / "hup"
    script = ("import signal, sys, time, pathlib\n"
              "signal.signal(signal.SIGHUP, lambda *a: (pathlib.Path(sys.argv[1]).write_text('hup'), sys.exit(0)))\n"
              "print('ready', flush=True)\n"
              "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(marker)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        (tmp_path / "pulse.pid").write_text(f"{proc.pid}\n")
        outcome = reload_local(str(tmp_path / "none.sock"), str(tmp_path / "pulse.pid"))
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert outcome.ok and outcome.how == "signal" and f"pid {proc.pid}" in outcome.message
    assert marker.read_text() == "hup"


def test_no_daemons_is_reported_as_not_running_not_as_an_error(tmp_path):
    (tmp_path / "pulse.pid").write_text("999999999\n")  # stale pidfile: no such process
    outcome = reload_local(str(tmp_path / "pulse.sock"), str(tmp_path / "pulse.pid"))
    assert outcome.ok and outcome.not_running and "daemons not running" in outcome.message


def test_apply_without_redundancy_writes_bumps_serial_and_skips_the_backup(tmp_path):
    lvs_cf = tmp_path / "lvs.cf"
    lvs_cf.write_text(SAMPLE)
    settings = ApplySettings(lvs_cf=str(lvs_cf), control_socket=str(tmp_path / "pulse.sock"),
                             pulse_pidfile=str(tmp_path / "pulse.pid"))
    draft = SAMPLE.replace("weight = 1", "weight = 3")
    result = engine.apply_text(settings, draft, lvs_cf.read_text())
    assert result.ok and result.serial_no == 5
    assert [(s.name, s.state) for s in result.steps] == [
        ("validate", "ok"), ("write", "ok"), ("sync", "skipped"), ("reload", "notice")]
    written = lvs_cf.read_text()
    assert "serial_no = 5" in written and "weight = 3" in written
    assert engine.sha256_text(written) == result.checksum
    assert os.stat(lvs_cf).st_mode & 0o777 == 0o640


def test_backup_active_without_a_destination_or_with_sync_none_is_out_of_sync(tmp_path):
    lvs_cf = tmp_path / "lvs.cf"
    text = SAMPLE.replace("backup_active = 0", "backup_active = 1")
    settings = ApplySettings(lvs_cf=str(lvs_cf), sync="none", control_socket=str(tmp_path / "s"),
                             pulse_pidfile=str(tmp_path / "p"))
    result = engine.apply_text(settings, text)
    assert result.written and result.backup_state == engine.OUT_OF_SYNC
    assert "PIRANHA_SYNC is 'none'" in result.backup_reason


def test_unwritable_directory_fails_the_write_and_stops(tmp_path):
    settings = ApplySettings(lvs_cf=str(tmp_path / "missing-dir" / "lvs.cf"))
    result = engine.apply_text(settings, SAMPLE)
    assert [s.name for s in result.steps] == ["validate", "write"]
    assert "cannot create a temporary file in" in result.step("write").message and not result.written


def test_unknown_group_is_refused_before_anything_is_written(tmp_path):
    lvs_cf = tmp_path / "lvs.cf"
    lvs_cf.write_text(SAMPLE)
    settings = ApplySettings(lvs_cf=str(lvs_cf), group="no-such-group-piranha")
    result = engine.apply_text(settings, SAMPLE.replace("weight = 1", "weight = 2"), SAMPLE)
    assert not result.written
    assert result.step("write").message == "group 'no-such-group-piranha' (PIRANHA_LVS_CF_GROUP) does not exist " \
                                           "on this machine"
    assert lvs_cf.read_text() == SAMPLE and list(tmp_path.iterdir()) == [lvs_cf]
