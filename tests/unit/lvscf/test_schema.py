"""The schema is the single source: the model, the docs and the reference's keyword index all agree with it."""

import dataclasses
import doctest
from pathlib import Path

import pytest

import piranha.lvscf
from piranha.lvscf import docgen, schema
from piranha.lvscf.model import BLOCK_CLASSES

ROOT = Path(__file__).resolve().parents[3]
BOOKKEEPING = {"present", "lines", "spelling", "line", "warnings", "servers", "virtual_servers",
               "failover_services", "name"}

# Reference §1.7: every keyword of every Piranha version, by block (GUI-only keys included).
PIRANHA_KEYWORDS = {
    "global": "serial_no service primary primary_private primary_shared backup backup_private backup_shared "
              "backup_active heartbeat heartbeat_port keepalive deadtime network nat_router nat_nmask rsh_command "
              "debug_level sync ipvsadm reservation_conflict_action active_cmd inactive_cmd monitor_links "
              "hard_shutdown syncdaemon syncd_iface syncd_id tcp_timeout tcpfin_timeout udp_timeout",
    "virtual": "active address vip_nmask sorry_server fwmark port protocol scheduler persistent pmask "
               "load_monitor timeout reentry quiesce_server send expect use_regex send_program client_monitor "
               "master dirs expect_program deadtime",
    "server": "address active weight port nmask",
    # Failover blocks went through the virtual-server parser, so use_regex (nanny --regex) was accepted there too.
    "failover": "active address vip_nmask port protocol timeout send expect use_regex send_program start_cmd "
                "stop_cmd heartbeat expect_program",
}
NEW_KEYWORDS = {("global", "heartbeat_key_file"), ("virtual", "check_interval"), ("virtual", "failures")}


@pytest.mark.parametrize("block", schema.BLOCKS)
def test_every_piranha_keyword_is_declared(block):
    declared = {kw.name for kw in schema.keywords(block, legacy=True)}
    assert set(PIRANHA_KEYWORDS[block].split()) <= declared


@pytest.mark.parametrize("block", schema.BLOCKS)
def test_new_keywords_are_marked_and_everything_else_was_known_to_piranha(block):
    for kw in schema.keywords(block, legacy=True):
        if (block, kw.name) in NEW_KEYWORDS:
            assert (kw.c_parser, kw.since, kw.default in (None, 1)) == (False, "piranha-ng 1.0", True)
        elif kw.legacy:
            assert not kw.c_parser and kw.name in {"expect_program", "deadtime", "heartbeat", "nmask"}
        else:
            assert kw.c_parser and kw.name in PIRANHA_KEYWORDS[block].split()
        assert kw.help and kw.since and kw.type.label


@pytest.mark.parametrize("block", schema.BLOCKS)
def test_model_attributes_are_exactly_the_schema_attributes_with_schema_defaults(block):
    cls = BLOCK_CLASSES[block]
    attrs = {f.name for f in dataclasses.fields(cls)} - BOOKKEEPING
    from_schema = {attr for kw in schema.keywords(block) for attr in kw.attrs}
    assert attrs == from_schema
    instance = cls() if block == "global" else cls(name="x")
    for kw in schema.keywords(block):
        if kw.name not in ("primary_private", "backup_private"):
            assert getattr(instance, kw.name) == kw.default


def test_defaults_listed_in_the_contract():
    assert [schema.keyword("global", k).default for k in ("keepalive", "deadtime", "heartbeat_port", "network",
                                                         "hard_shutdown")] == [2, 5, 539, "nat", True]
    assert [schema.keyword("virtual", k).default for k in ("port", "scheduler", "timeout", "reentry", "failures")] \
        == [80, "wlc", 10, 180, 1]
    assert schema.keyword("server", "weight").default == 1


def test_every_default_is_a_valid_value_and_formats_back():
    for block in schema.BLOCKS:
        for kw in schema.keywords(block):
            if kw.default is not None:
                kw.check(kw.default)
                assert kw.convert(kw.format(kw.default)) == kw.default


def test_lookup_errors_name_what_is_missing():
    with pytest.raises(KeyError, match="no keyword 'weight' in a virtual block"):
        schema.keyword("virtual", "weight")
    with pytest.raises(KeyError, match="unknown block 'pool'"):
        schema.keywords("pool")


def test_render_order_follows_the_original_gui():
    order = [kw.name for kw in schema.keywords("global")]
    gui = ("serial_no primary primary_private primary_shared service rsh_command backup_active backup "
           "backup_private backup_shared heartbeat heartbeat_port keepalive deadtime network nat_router nat_nmask "
           "reservation_conflict_action debug_level monitor_links syncdaemon syncd_iface syncd_id tcp_timeout "
           "tcpfin_timeout udp_timeout").split()
    assert order[:len(gui)] == gui
    virtual = [kw.name for kw in schema.keywords("virtual", legacy=True)]
    assert virtual[:20] == ("active address sorry_server vip_nmask fwmark port persistent pmask send expect "
                            "use_regex send_program expect_program load_monitor scheduler deadtime protocol "
                            "timeout reentry quiesce_server").split()
    assert [kw.name for kw in schema.keywords("server", legacy=True)] == ["address", "nmask", "active", "port",
                                                                         "weight"]


def test_committed_reference_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "lvs.cf.md").read_text()
    assert committed == docgen.reference(), "run: python -m piranha.lvscf.docgen > docs/lvs.cf.md"
    for block in schema.BLOCKS:
        for kw in schema.keywords(block, legacy=True):
            assert f"| `{kw.name}` |" in committed


@pytest.mark.parametrize("module", [piranha.lvscf, schema])
def test_module_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
