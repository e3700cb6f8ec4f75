"""Canonical text: the original GUI's layout under our header, and round trips in both directions."""

from pathlib import Path

import pytest

from piranha import lvscf
from piranha.lvscf import RealServer, VirtualServer
from piranha.lvscf.render import HEADER

DATA = Path(__file__).resolve().parents[2] / "data" / "lvs_cf" / "valid"


def test_gui_written_file_re_renders_byte_for_byte_apart_from_the_header():
    text = (DATA / "gui-0.8.6.cf").read_text()
    assert lvscf.dumps(lvscf.loads(text)) == HEADER + text


def test_canonical_text_round_trips_exactly():
    text = (DATA / "canonical-ng.cf").read_text()
    assert text.startswith(HEADER)
    assert lvscf.dumps(lvscf.loads(text)) == text


@pytest.mark.parametrize("path", sorted(DATA.glob("*.cf")), ids=lambda p: p.name)
def test_every_valid_fixture_reads_back_to_the_same_model(path):
    config = lvscf.load(path)
    text = lvscf.dumps(config)
    again = lvscf.loads(text)
    assert again == config
    assert again.warnings == []
    assert lvscf.dumps(again) == text


def test_layout_indents_and_order():
    config = lvscf.LvsConfig(primary="10.0.0.1", serial_no=5)
    virtual = VirtualServer(name="web", active=True, address="10.0.0.80", device="eth0:1", scheduler="rr")
    virtual.servers.append(RealServer(name="r1", address="10.1.0.1", active=True, weight=3))
    config.virtual_servers.append(virtual)
    config.failover_services.append(lvscf.FailoverService(name="f", address="10.0.0.81", device="eth0:2"))
    body = lvscf.dumps(config)[len(HEADER):]
    assert body == ("serial_no = 5\n"
                    "primary = 10.0.0.1\n"
                    "failover f {\n"
                    "     address = 10.0.0.81 eth0:2\n"
                    "}\n"
                    "virtual web {\n"
                    "     active = 1\n"
                    "     address = 10.0.0.80 eth0:1\n"
                    "     scheduler = rr\n"
                    "     server r1 {\n"
                    "         address = 10.1.0.1\n"
                    "         active = 1\n"
                    "         weight = 3\n"
                    "     }\n"
                    "}\n")


def test_values_keep_their_spelling_until_changed():
    config = lvscf.load(DATA / "numbers.cf")
    text = lvscf.dumps(config)
    assert "heartbeat_port = 0x21b\n" in text and "     port = ftp\n" in text and "syncd_id = 0377\n" in text
    config.heartbeat_port = 540
    config.virtual_servers[0].port = 2121
    text = lvscf.dumps(config)
    assert "heartbeat_port = 540\n" in text and "     port = 2121\n" in text


def test_explicit_default_values_are_kept_and_unset_ones_are_not_written():
    config = lvscf.loads("primary = 10.0.0.1\nkeepalive = 2\n")
    assert "keepalive = 2\n" in lvscf.dumps(config)
    assert "deadtime" not in lvscf.dumps(config)
    config.deadtime = 7.5
    assert "deadtime = 7.5\n" in lvscf.dumps(config)


def test_derived_private_addresses_are_written_only_when_set():
    config = lvscf.loads("primary = 10.0.0.1\nbackup = 10.0.0.2\n")
    assert "private" not in lvscf.dumps(config)
    config.primary_private, config.backup_private = "10.9.0.1", "10.9.0.2"
    assert "primary_private = 10.9.0.1\n" in lvscf.dumps(config)
    assert "backup_private = 10.9.0.2\n" in lvscf.dumps(config)


def test_legacy_and_ignored_keys_are_dropped_on_write():
    config = lvscf.load(DATA / "legacy-keys.cf")
    text = lvscf.dumps(config)[len(HEADER):]
    for gone in ("expect_program", "deadtime", "nmask", "heartbeat", "scheduler"):
        assert gone not in text
    assert text.count("start_cmd") == 1  # the failover block's own; the virtual block's is gone
    assert "dirs = [ /etc /var/www ]\n" in text and "master = 192.168.7.1\n" in text


@pytest.mark.parametrize("attr, value, message", [
    ("send", 'say "hi"', r"virtual/web: send: .* double quote"),
    ("expect", "two\nlines", r"virtual/web: expect: .* control character"),
    ("name", "two words", r"virtual/two words: .* not a usable name"),
    ("port", 0, r"virtual/web: port: '0' is out of range"),
])
def test_values_that_cannot_be_written_are_refused(attr, value, message):
    config = lvscf.LvsConfig(primary="10.0.0.1")
    virtual = VirtualServer(name="web", address="10.0.0.80", device="eth0:1")
    setattr(virtual, attr, value)
    config.virtual_servers.append(virtual)
    with pytest.raises(lvscf.RenderError, match=message):
        lvscf.dumps(config)


def test_plain_values_with_blanks_are_quoted():
    config = lvscf.LvsConfig(primary="10.0.0.1", active_cmd="/usr/local/bin/notify became active")
    text = lvscf.dumps(config)
    assert 'active_cmd = "/usr/local/bin/notify became active"\n' in text
    assert lvscf.loads(text).active_cmd == "/usr/local/bin/notify became active"


def test_dump_writes_a_file(tmp_path):
    config = lvscf.load(DATA / "fos.cf")
    lvscf.dump(config, tmp_path / "lvs.cf")
    assert lvscf.load(tmp_path / "lvs.cf") == config
