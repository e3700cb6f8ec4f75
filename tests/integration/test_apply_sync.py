"""Apply against a real backup director: sshd in a namespace, rsync/ssh copies, remote piranha-ctl reload.

Every failure mode is produced for real (sshd stopped, wrong key, changed host key, read-only or full target
file system, the far file changed behind our back) and its message asserted.
"""

import hashlib
import sys
import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip", "sshd", "ssh", "rsync", "ssh-keygen")

from piranha_web.apply import engine  # noqa: E402
from piranha_web.apply.settings import ApplySettings  # noqa: E402

from .apply_support import BACKUP_ADDR, PRIMARY_ADDR, inside_netns, running_backup  # noqa: E402

pytestmark = pytest.mark.timeout(120)

CONFIG = f"""serial_no = 7
primary = {PRIMARY_ADDR}
service = lvs
backup_active = 1
backup = {BACKUP_ADDR}
heartbeat = 1
heartbeat_port = 539
keepalive = 2
deadtime = 5
network = direct
virtual web {{
     active = 1
     address = 192.168.50.10 eth0:1
     port = 80
     scheduler = wlc
     protocol = tcp
     timeout = 6
     server r1 {{
         address = 192.168.50.11
         active = 1
         weight = 1
     }}
}}
"""
RUNNING = CONFIG.replace("weight = 1", "weight = 5")


@pytest.fixture
def director(tmp_path):
    with running_backup(tmp_path) as backup:
        yield backup


@pytest.fixture
def lvs_cf(tmp_path):
    path = tmp_path / "primary-etc" / "lvs.cf"
    path.parent.mkdir()
    path.write_text(RUNNING)
    return path


def run_apply(director, lvs_cf, text=CONFIG, **overrides):
    settings = ApplySettings.from_mapping(director.settings(lvs_cf, **overrides), environ={})
    seen = []
    with inside_netns(director.primary.name):
        result = engine.apply_text(settings, text, lvs_cf.read_text(), on_step=seen.append)
    assert [s.name for s in seen] == [s.name for s in result.steps], "every step is reported as it finishes"
    return result


@pytest.mark.parametrize("method", ["rsync", "ssh"])
def test_apply_copies_verifies_and_reloads_the_backup(director, lvs_cf, method):
    result = run_apply(director, lvs_cf, PIRANHA_SYNC=method)

    assert result.ok, [s.as_dict() for s in result.steps]
    assert [s.name for s in result.steps] == ["validate", "write", "sync", "remote reload", "reload"]
    local = lvs_cf.read_text()
    assert "serial_no = 8" in local and "weight = 1" in local
    assert lvs_cf.stat().st_mode & 0o777 == 0o640
    remote = director.remote_lvs_cf
    assert remote.read_text() == local
    assert remote.stat().st_mode & 0o777 == 0o640
    assert hashlib.sha256(remote.read_bytes()).hexdigest() == result.checksum == result.backup_checksum
    assert result.backup_state == engine.IN_SYNC
    assert [r["command"] for r in director.reloads()] == ["reload"]
    assert "backup reloaded" in result.step("remote reload").message
    local_reload = result.step("reload")
    assert local_reload.state == "notice" and "daemons not running" in local_reload.message


def _assert_backup_failure(result, lvs_cf, cause, *phrases):
    assert result.written, "a sync failure leaves the local file applied"
    assert "serial_no = 8" in lvs_cf.read_text()
    sync = result.step("sync")
    assert not sync.ok and sync.detail["cause"] == cause
    assert sync.message.startswith(f"backup: {cause}")
    for phrase in phrases:
        assert phrase in sync.message
    assert result.backup_state == engine.OUT_OF_SYNC and result.backup_reason == sync.message
    assert result.step("remote reload").skipped
    assert not result.ok


def test_stopped_sshd_is_reported_unreachable(director, lvs_cf):
    director.stop_sshd()
    result = run_apply(director, lvs_cf)
    _assert_backup_failure(result, lvs_cf, "unreachable", "Connection refused")
    assert director.reloads() == []


def test_wrong_key_is_reported_as_authentication_refused(director, lvs_cf, tmp_path):
    from .apply_support import keygen
    keygen(tmp_path / "stranger_key")
    result = run_apply(director, lvs_cf, PIRANHA_SSH_KEY=str(tmp_path / "stranger_key"))
    _assert_backup_failure(result, lvs_cf, "authentication refused", "Permission denied (publickey")


def test_changed_host_key_is_reported_and_nothing_is_sent(director, lvs_cf):
    director.stop_sshd()
    director.replace_host_key()
    director.start_sshd()
    result = run_apply(director, lvs_cf, PIRANHA_SYNC="ssh")
    _assert_backup_failure(result, lvs_cf, "host key changed", "impostor")
    assert not director.remote_lvs_cf.exists()


def test_read_only_target_directory_is_reported_permission_denied(director, lvs_cf):
    director.stop_sshd()
    target = director.remote_dir
    director.start_sshd(prelude=f"mount --bind {target} {target} && mount -o remount,bind,ro {target}")
    result = run_apply(director, lvs_cf)
    _assert_backup_failure(result, lvs_cf, "permission denied", "Read-only file system")


def test_full_target_file_system_is_reported_disk_full(director, lvs_cf):
    director.stop_sshd()
    target = director.remote_dir
    director.start_sshd(prelude=f"mount -t tmpfs -o size=64k tmpfs {target} && "
                                f"(dd if=/dev/zero of={target}/filler bs=4k count=64 2>/dev/null; true)")
    result = run_apply(director, lvs_cf, PIRANHA_SYNC="ssh")
    _assert_backup_failure(result, lvs_cf, "disk full", "No space left on device")


def test_file_changed_on_the_backup_after_the_copy_is_a_checksum_mismatch(director, lvs_cf):
    # A configuration-management job on the backup that rewrites lvs.cf as soon as it appears.
    rewriter = director.backup.popen([sys.executable, "-c", (
        "import os, sys, time\n"
        "path = sys.argv[1]\n"
        "deadline = time.monotonic() + 60\n"
        "while time.monotonic() < deadline:\n"
        "    if os.path.exists(path) and 'managed-by-cfengine' not in open(path).read():\n"
        "        open(path, 'a').write('# managed-by-cfengine\\n')\n"
        "    time.sleep(0.002)\n"), str(director.remote_lvs_cf)])
    try:
        result = run_apply(director, lvs_cf)
    finally:
        rewriter.kill()
        rewriter.wait(timeout=10)
    _assert_backup_failure(result, lvs_cf, "checksum mismatch", "differs from the file written here")
    assert result.backup_checksum == hashlib.sha256(director.remote_lvs_cf.read_bytes()).hexdigest()


def test_retry_sync_after_the_backup_comes_back(director, lvs_cf):
    director.stop_sshd()
    failed = run_apply(director, lvs_cf)
    assert failed.backup_state == engine.OUT_OF_SYNC
    director.start_sshd()
    settings = ApplySettings.from_mapping(director.settings(lvs_cf), environ={})
    with inside_netns(director.primary.name):
        retried = engine.resync(settings, lvs_cf.read_text())
    assert retried.backup_state == engine.IN_SYNC, [s.as_dict() for s in retried.steps]
    assert director.remote_lvs_cf.read_text() == lvs_cf.read_text()
    assert [r["command"] for r in director.reloads()] == ["reload"]


def test_pulse_not_running_on_the_backup_is_not_an_apply_failure(director, lvs_cf):
    director.stop_receiver()
    result = run_apply(director, lvs_cf)
    assert result.ok and result.backup_state == engine.IN_SYNC
    remote_reload = result.step("remote reload")
    assert remote_reload.state == "notice" and "daemons not running" in remote_reload.message


def test_invalid_draft_writes_nothing_anywhere(director, lvs_cf):
    before = (lvs_cf.read_bytes(), lvs_cf.stat().st_mtime_ns)
    result = run_apply(director, lvs_cf, text=CONFIG.replace("port = 80", "port = 80000"))
    assert [s.name for s in result.steps] == ["validate"] and not result.ok
    assert "80000" in result.step("validate").message
    time.sleep(0.01)
    assert (lvs_cf.read_bytes(), lvs_cf.stat().st_mtime_ns) == before
    assert not director.remote_lvs_cf.exists() and director.reloads() == []


def test_the_written_file_gets_the_configured_group(director, lvs_cf):
    import grp
    result = run_apply(director, lvs_cf, PIRANHA_LVS_CF_GROUP="nogroup")
    assert result.ok
    assert lvs_cf.stat().st_gid == grp.getgrnam("nogroup").gr_gid
    assert lvs_cf.stat().st_mode & 0o777 == 0o640
    assert "Do not hand edit" in lvs_cf.read_text()


def test_backup_pulse_refusing_the_reload_is_reported_with_its_reason(director, lvs_cf):
    director.stop_receiver()
    director.start_receiver(refuse=True)
    result = run_apply(director, lvs_cf)
    assert result.written and result.backup_state == engine.IN_SYNC  # the file is there, verified
    remote_reload = result.step("remote reload")
    assert remote_reload.state == "failed" and remote_reload.detail["cause"] == "remote command failed"
    assert "pulse refused reload: lvs.cf does not validate" in remote_reload.message
    assert [r["command"] for r in director.reloads()] == ["reload"] and not result.ok
