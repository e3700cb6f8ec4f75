"""Golden files: every valid file loads and validates; every invalid file gives exactly its .expected list."""

from pathlib import Path

import pytest

from piranha import lvscf

DATA = Path(__file__).resolve().parents[2] / "data" / "lvs_cf"
VALID = sorted((DATA / "valid").glob("*.cf"))
INVALID = sorted((DATA / "invalid").glob("*.cf"))


def problems_of(path: Path) -> list[str]:
    """Parse errors if the file does not parse, else validation errors, as 'LINE: message'."""
    try:
        config = lvscf.load(path)
    except lvscf.LvsConfigError as exc:
        return [str(p) for p in exc.errors]
    return [str(p) for p in config.validate()]


def test_fixture_sets_are_not_empty():
    assert len(VALID) >= 8 and len(INVALID) >= 7


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_file_loads_and_validates(path):
    config = lvscf.load(path)
    assert config.validate() == []
    expected = path.with_suffix(".warnings")
    warnings = [str(w) for w in config.warnings]
    assert warnings == (expected.read_text().splitlines() if expected.exists() else [])


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_file_reports_every_expected_problem(path):
    expected = path.with_suffix(".expected").read_text().splitlines()
    assert expected, f"{path.name} needs a non-empty .expected file"
    assert problems_of(path) == expected


def test_seed_sample_values():
    config = lvscf.load(DATA / "valid" / "seed-sample.cf")
    assert (config.primary, config.backup, config.heartbeat_port, config.keepalive, config.deadtime) == \
        ("207.175.44.150", "207.175.44.196", 1050, 6, 18)
    assert (config.nat_router, config.nat_router_device, config.rsh_command) == ("192.168.10.100", "eth1:1", "rsh")
    first, second = config.virtual_servers
    assert (first.port, first.persistent, first.pmask, first.load_monitor) == (80, 60, "255.255.255.255", "uptime")
    assert first.send == "GET / HTTP/1.0\\r\\n\\r\\n" and second.send == "\\n"
    assert [s.weight for s in second.servers] == [1, 1] and second.active is False
    assert [f.name for f in config.failover_services] == ["web1", "ftp"]
    assert config.failover_service("web1").start_cmd == "/etc/rc.d/init.d/httpd start"


def test_numbers_fixture_reads_hex_octal_and_service_names():
    config = lvscf.load(DATA / "valid" / "numbers.cf")
    assert (config.heartbeat_port, config.keepalive, config.deadtime, config.syncd_id, config.tcp_timeout) == \
        (539, 2, 10, 255, 8)
    ftp, web = config.virtual_servers
    assert (ftp.port, ftp.fwmark, ftp.timeout, ftp.servers[0].active, ftp.servers[0].weight) == (21, 16, 10, True, 0)
    assert (web.active, web.port, web.servers[0].port) == (True, 80, 8080)


def test_line_end_fixtures_read_the_same():
    crlf, cr = (lvscf.load(DATA / "valid" / name) for name in ("crlf.cf", "cr.cf"))
    assert crlf == cr and crlf.virtual_server("web").servers[0].address == "10.4.0.1"
