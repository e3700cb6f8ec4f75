"""What pulse takes from lvs.cf: role, addresses, timing, VIPs and commands."""

import os

import pytest

from piranha import lvscf
from piranha.net.addresses import Vip
from piranha.pulse.settings import SettingsError, load_config, settings_from_config, split_command
from piranha.pulse.state import Role

BASE = """serial_no = 7
primary = 10.213.0.1
primary_private = 10.214.0.1
service = {service}
backup_active = {backup_active}
backup = 10.213.0.2
backup_private = 10.214.0.2
heartbeat = 1
heartbeat_port = 1050
keepalive = 0.5
deadtime = 1.5
network = nat
nat_router = 10.213.1.254 eth1:1
nat_nmask = 255.255.255.0
monitor_links = 1
active_cmd = "/usr/local/bin/up --fast"
{extra}
virtual web {{
    active = 1
    address = 10.213.0.100 eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    server a {{
        address = 10.213.1.10
        active = 1
    }}
}}
virtual web-tls {{
    active = 1
    address = 10.213.0.100 eth0:1
    vip_nmask = 255.255.255.0
    port = 443
    server a {{
        address = 10.213.1.10
        active = 1
    }}
}}
virtual off {{
    active = 0
    address = 10.213.0.101 eth0:2
    port = 80
    server a {{
        address = 10.213.1.10
        active = 1
    }}
}}
"""


def settings(own, service="lvs", backup_active=1, extra=""):
    config = lvscf.loads(BASE.format(service=service, backup_active=backup_active, extra=extra))
    assert config.validate() == []
    return settings_from_config("lvs.cf", config, own)


def test_master_by_primary_address_with_partner_paths_and_timing():
    s = settings({"10.213.0.1", "127.0.0.1"})
    assert s.role is Role.MASTER and s.mode == "lvs" and s.serial_no == 7
    assert (s.own_public, s.own_private, s.partner_public, s.partner_private) == (
        "10.213.0.1", "10.214.0.1", "10.213.0.2", "10.214.0.2")
    assert (s.heartbeat_port, s.timing.keepalive, s.timing.deadtime, s.timing.backup_active) == (1050, 0.5, 1.5, True)
    assert s.monitor_links and s.active_cmd == ("/usr/local/bin/up", "--fast") and s.inactive_cmd == ()


def test_backup_by_backup_address_swaps_the_pairs():
    s = settings({"10.213.0.2"})
    assert s.role is Role.BACKUP
    assert (s.own_public, s.partner_public, s.partner_private) == ("10.213.0.2", "10.213.0.1", "10.214.0.1")


def test_vips_are_the_nat_router_and_distinct_active_virtual_addresses():
    assert settings({"10.213.0.1"}).vips == (
        Vip("10.213.1.254", "eth1:1", 24), Vip("10.213.0.100", "eth0:1", 24))


def test_a_host_that_is_neither_director_is_refused():
    with pytest.raises(SettingsError, match="neither primary = 10.213.0.1 nor backup = 10.213.0.2"):
        settings({"10.99.0.1"})


def test_without_backup_no_heartbeat_partner_and_no_link_monitoring():
    s = settings({"10.213.0.1"}, backup_active=0)
    assert s.partner_public is None and not s.timing.backup_active and not s.monitor_links


def test_no_active_services_of_the_mode_is_refused():
    config = lvscf.loads(BASE.format(service="lvs", backup_active=1, extra=""))
    for virtual in config.virtual_servers:
        virtual.active = False
    with pytest.raises(SettingsError, match="no active lvs services defined in lvs.cf"):
        settings_from_config("lvs.cf", config, {"10.213.0.1"})


def test_heartbeat_key_file_is_read_and_checked(tmp_path):
    key = tmp_path / "key"
    key.write_bytes(b"k" * 32)
    os.chmod(key, 0o600)
    assert settings({"10.213.0.1"}, extra=f"heartbeat_key_file = {key}").key == b"k" * 32
    os.chmod(key, 0o644)
    with pytest.raises(SettingsError, match="accessible by others"):
        settings({"10.213.0.1"}, extra=f"heartbeat_key_file = {key}")


def test_load_config_lists_problems_with_file_and_line(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_text(BASE.format(service="lvs", backup_active=1, extra="").replace("keepalive = 0.5", "keepalive = x"))
    with pytest.raises(SettingsError, match=r"lvs.cf:\d+: .*'x'"):
        load_config(str(path))
    with pytest.raises(SettingsError, match="cannot read"):
        load_config(str(tmp_path / "missing.cf"))


def test_commands_split_on_spaces_without_a_shell():
    assert split_command("/bin/echo a;b $HOME") == ("/bin/echo", "a;b", "$HOME")
    assert split_command(None) == ()
