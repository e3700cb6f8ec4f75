"""The C dialect: lexical rules, blocks, defaults, and errors that carry lines and quote the bad text."""

import pytest

from piranha import lvscf
from piranha.lvscf.parser import split_lines, tokenize

MINIMAL = "primary = 10.0.0.1\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(lvscf.LvsConfigError) as caught:
        lvscf.loads(text)
    return [str(problem) for problem in caught.value.errors]


def test_defaults_are_the_c_daemons_defaults():
    config = lvscf.loads(MINIMAL + "virtual v {\n address = 10.0.0.2 eth0:1\n server r {\n }\n}\n"
                         "failover f {\n}\n")
    assert (config.service, config.keepalive, config.deadtime, config.heartbeat_port, config.network) == \
        ("lvs", 2, 5, 539, "nat")
    assert config.hard_shutdown is True and config.backup_active is False and config.rsh_command == "rsh"
    virtual = config.virtual_server("v")
    assert (virtual.port, virtual.scheduler, virtual.timeout, virtual.reentry, virtual.protocol) == \
        (80, "wlc", 10.0, 180.0, "tcp")
    assert virtual.active is False and virtual.check_interval is None and virtual.failures == 1
    assert virtual.interval == 10.0
    server = virtual.server("r")
    assert (server.weight, server.port, server.active, server.address) == (1, None, False, None)
    assert virtual.real_port(server) == 80
    failover = config.failover_service("f")
    assert (failover.port, failover.timeout, failover.start_cmd) == (80, 10.0, None)
    assert config.present == {"primary"} and virtual.present == {"address"}


def test_two_value_keys_fill_address_and_device():
    config = lvscf.loads(MINIMAL + "nat_router = 10.9.9.254 eth1:1\nvirtual v {\n address = 10.0.0.2 eth0:1\n}\n")
    assert (config.nat_router, config.nat_router_device) == ("10.9.9.254", "eth1:1")
    assert (config.virtual_servers[0].address, config.virtual_servers[0].device) == ("10.0.0.2", "eth0:1")


def test_quoted_values_keep_backslash_escapes_uninterpreted():
    config = lvscf.loads(MINIMAL + 'virtual v {\n send = "GET / HTTP/1.0\\r\\n\\r\\n"\n expect = \'HTTP 200\'\n'
                                   ' send_program = "/usr/bin/check %h:%p"\n}\n')
    virtual = config.virtual_servers[0]
    assert virtual.send == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert virtual.expect == "HTTP 200"
    assert virtual.send_program == "/usr/bin/check %h:%p"


def test_any_blanks_and_tabs_separate_tokens():
    config = lvscf.loads("primary\t=   10.0.0.1  \n   keepalive =\t3\n")
    assert config.primary == "10.0.0.1" and config.keepalive == 3


def test_line_ends_lf_crlf_cr_and_mixed():
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    for text in ("primary = 10.0.0.1\r\nkeepalive = 3\r\n", "primary = 10.0.0.1\rkeepalive = 3\r"):
        assert lvscf.loads(text).keepalive == 3


def test_line_numbers_count_comments_and_blank_lines():
    assert errors_of("# comment\n\nprimary = 10.0.0.1\n   # indented comment\nbogus = 1\n") == \
        ["5: unknown command 'bogus' in a global block"]


def test_last_value_wins_with_a_warning():
    config = lvscf.loads("service = fos\nprimary = 10.0.0.1\nservice = lvs\n")
    assert config.service == "lvs" and config.lines["service"] == 3
    assert [str(w) for w in config.warnings] == ["3: service: set again (first on line 1); the last value wins"]


def test_every_error_is_reported_in_line_order():
    text = ("primary=10.0.0.1\n"                          # 1
            "keepalive = 2 # two seconds\n"               # 2
            "backup_active = 2\n"                         # 3
            "heartbeat_port = 0x\n"                       # 4
            "virtual web {\n"                             # 5
            "     address = 10.0.0.5\n"                   # 6
            '     send = "GET /\n'                        # 7
            "     schedular = rr\n"                       # 8
            "     weight = 1\n"                           # 9
            "     server a {\n"                           # 10
            "         port = http\n"                      # 11
            "     } extra\n"                              # 12
            "}\n"                                         # 13
            "}\n"                                         # 14
            "failover f\n"                                # 15
            "{\n"                                         # 16
            "     server s {\n"                           # 17
            "     }\n"                                    # 18
            "virtual w\n"                                 # 19
            "keepalive\n"                                 # 20
            "keepalive =\n")                              # 21
    assert errors_of(text) == [
        "1: primary: blanks are required around '=' (write 'primary = ...')",
        "2: keepalive: unexpected arguments '# two seconds' (comments must be on a line of their own)",
        "3: backup_active: boolean expected (0 or 1), got '2'",
        "4: heartbeat_port: '0x' is not a port number (1-65535) nor a known service name",
        "6: address: missing arguments: address needs an address and an interface, e.g. '10.0.0.1 eth0:1'",
        "7: quotation mismatch: '\"GET /' has no closing \"",
        "8: unknown command 'schedular' in a virtual block (did you mean 'scheduler'?)",
        "9: unknown command 'weight' in a virtual block (it belongs in a server block)",
        "11: port: 'http' is not a port number (1-65535) (service names are not allowed here)",
        "12: unexpected arguments after '}': 'extra'",
        "14: unmatched '}' at top level",
        "15: failover 'f': the opening '{' must end this line ('failover NAME {')",
        "15: failover 'f' is never closed (missing '}')",
        "17: server 's': real servers belong inside a virtual block",
        "19: virtual 'w': the opening '{' must end this line ('virtual NAME {')",
        "20: unknown command 'keepalive' in a failover block (it belongs in a global block; is a '}' missing "
        "above?)",
        "21: unknown command 'keepalive' in a failover block (it belongs in a global block; is a '}' missing "
        "above?)",
    ]


def test_problems_carry_block_path_and_keyword():
    with pytest.raises(lvscf.LvsConfigError) as caught:
        lvscf.loads(MINIMAL + "virtual web {\n server a {\n  weight = -1\n }\n}\n")
    (problem,) = caught.value.errors
    assert (problem.line, problem.keyword, problem.block) == (4, "weight", ("virtual", "web", "server", "a"))
    assert problem.message == "weight: '-1' is out of range (0-65535)"
    assert problem.detail == "'-1' is out of range (0-65535)"
    assert "1 error(s) in lvs.cf: 4: weight:" in str(caught.value)


def test_missing_close_brace_before_the_next_block_is_named():
    assert errors_of(MINIMAL + "virtual a {\n port = 80\nvirtual b {\n port = 81\n}\n") == \
        ["4: virtual 'a' (line 2) is not closed before virtual 'b' (missing '}')"]


def test_brace_on_its_own_line_after_a_complete_opener_is_an_error_once():
    assert errors_of(MINIMAL + "virtual a\n{\n port = 80\n}\n") == \
        ["2: virtual 'a': the opening '{' must end this line ('virtual NAME {')"]
    assert errors_of(MINIMAL + "{\n") == ["2: '{' on its own line: write the block opener as 'virtual NAME {'"]
    assert errors_of(MINIMAL + "virtual a\nport = 80\n{\n") == [
        "2: virtual 'a': the opening '{' must end this line ('virtual NAME {')",
        "3: unknown command 'port' in a global block (it belongs in a virtual or server or failover block)",
        "4: '{' on its own line: write the block opener as 'virtual NAME {'",
    ]


def test_extra_values_hint_at_quoting_only_for_text():
    assert errors_of("primary = 10.0.0.1 eth0\nrsh_command = ssh -l root\n") == [
        "1: primary: unexpected arguments 'eth0'",
        "2: rsh_command: unexpected arguments '-l root' (quote a value that contains blanks)",
    ]


def test_opener_with_extra_words():
    assert errors_of(MINIMAL + "virtual my web {\n}\n") == \
        ["2: a block opens with 'virtual NAME {' on one line, got 'virtual my web {'"]


def test_empty_file_is_an_error_but_comments_only_is_not():
    assert errors_of("") == ["empty configuration: the file has no content"]
    assert errors_of(" \n\t\n") == ["empty configuration: the file has no content"]
    assert lvscf.loads("# nothing yet\n").virtual_servers == []


def test_legacy_gui_keys_load_with_warnings_and_are_not_kept():
    config = lvscf.loads(MINIMAL + 'virtual v {\n expect_program = "x"\n deadtime = 9\n server r {\n'
                                   '  nmask = 255.255.255.0\n }\n}\nfailover f {\n heartbeat = 1\n}\n')
    assert [(w.line, w.keyword) for w in config.warnings] == \
        [(3, "expect_program"), (4, "deadtime"), (6, "nmask"), (10, "heartbeat")]
    assert all("Piranha's GUI wrote this key but its daemons rejected it" in w.message for w in config.warnings)
    assert config.virtual_servers[0].present == set()


def test_keys_of_the_other_block_kind_are_ignored_with_a_warning():
    config = lvscf.loads(MINIMAL + 'virtual v {\n start_cmd = "/bin/true"\n}\nfailover f {\n scheduler = rr\n}\n')
    assert [str(w) for w in config.warnings] == [
        "3: start_cmd: has no effect in a virtual block; ignored, and dropped when the file is written again",
        "6: scheduler: has no effect in a failover block; ignored, and dropped when the file is written again",
    ]


def test_legacy_unused_keys_are_parsed_and_kept():
    config = lvscf.loads(MINIMAL + "debug_level = MAX\nsync = 1\nvirtual v {\n dirs = [ /etc /srv ]\n"
                                   " master = 10.0.0.9\n client_monitor = /usr/sbin/nanny\n}\n")
    assert config.debug_level == "MAX" and config.sync is True
    assert config.virtual_servers[0].dirs == ("/etc", "/srv") and config.virtual_servers[0].master == "10.0.0.9"
    assert config.warnings == []


def test_private_addresses_default_like_the_c_parser():
    config = lvscf.loads("primary = 10.0.0.1\nbackup = 10.0.0.2\n")
    assert (config.primary_private, config.backup_private) == ("10.0.0.1", "10.0.0.2")
    assert config.explicit("primary_private") is None
    config = lvscf.loads("primary = 10.0.0.1\nbackup = 10.0.0.2\nprimary_private = 10.9.0.1\n")
    assert (config.primary_private, config.backup_private) == ("10.9.0.1", None)
    config.primary = "10.0.0.7"
    config.primary_private = None
    assert config.primary_private == "10.0.0.7" and config.backup_private == "10.0.0.2"


def test_hostnames_are_kept_as_written_without_lookups():
    config = lvscf.loads("primary = lvs-a.example.invalid\nbackup = lvs-b.example.invalid\n")
    assert config.primary == "lvs-a.example.invalid"


def test_undecodable_bytes_load_in_comments_but_not_in_values(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_bytes(b"# caf\xe9\nprimary = 10.0.0.1\n")
    assert lvscf.load(path).primary == "10.0.0.1"
    path.write_bytes(b"# caf\xe9\nprimary = 10.0.0.1\nrsh_command = ss\xe9h\n")
    with pytest.raises(lvscf.LvsConfigError) as caught:
        lvscf.load(path)
    assert [str(p) for p in caught.value.errors] == \
        ["3: rsh_command: 'ss\\udce9h' contains bytes that are not UTF-8 text"]


@pytest.mark.parametrize("line, tokens", [
    ("a = b", ["a", "=", "b"]),
    ('send = "x y"', ["send", "=", "x y"]),
    ("send = 'a \"b\" c'", ["send", "=", 'a "b" c']),
    ('send = ""', ["send", "=", ""]),
    ('x = "a"b', ["x", "=", "a", "b"]),
    ("a\t=\xa0b", ["a", "=\xa0b"]),
])
def test_tokenize(line, tokens):
    assert tokenize(line) == tokens
