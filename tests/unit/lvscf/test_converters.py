"""Each value type: what it accepts (and how it normalizes), what it rejects and with which message."""

import math

import pytest

from piranha.lvscf.converters import (
    Boolean, Choice, Host, HostDevice, Integer, Interface, Name, Netmask, Path, Port, Seconds, Text, WordList,
    format_bare, strtol,
)


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("7", 7), ("42", 42), ("010", 8), ("0x1F", 31), ("0X1f", 31), ("-5", -5), ("+3", 3), ("00", 0),
    ("0377", 255),
])
def test_strtol_reads_like_c(text, value):
    assert strtol(text) == value


@pytest.mark.parametrize("text", ["", "08", "1_000", "12a", "0x", "1.5", " 1", "٣", "--1", "0xg"])
def test_strtol_rejects_trailing_garbage(text):
    with pytest.raises(ValueError, match="integer expected"):
        strtol(text)


def test_integer_range_message_quotes_the_text():
    kind = Integer(0, 255)
    assert kind.parse("0xff") == 255
    with pytest.raises(ValueError, match=r"'0x100' is out of range \(0-255\)"):
        kind.parse("0x100")
    with pytest.raises(ValueError, match="integer expected"):
        kind.check(True)


@pytest.mark.parametrize("text, value", [("80", 80), ("http", 80), ("0x50", 80), ("65535", 65535), ("ftp", 21)])
def test_port_accepts_numbers_and_service_names(text, value):
    assert Port().parse(text) == value


@pytest.mark.parametrize("text, message", [
    ("0", r"'0' is out of range \(1-65535\)"),
    ("65536", "out of range"),
    ("no-such-service-name", "'no-such-service-name' is not a port number .* nor a known service name"),
])
def test_port_rejections(text, message):
    with pytest.raises(ValueError, match=message):
        Port().parse(text)


def test_real_server_port_must_be_numeric():
    with pytest.raises(ValueError, match="service names are not allowed"):
        Port(service_names=False).parse("http")


@pytest.mark.parametrize("text, value", [("0", False), ("1", True), ("0x1", True), ("00", False)])
def test_boolean(text, value):
    assert Boolean().parse(text) is value


@pytest.mark.parametrize("text", ["2", "-1", "yes", "true", ""])
def test_boolean_rejects(text):
    with pytest.raises(ValueError, match=r"boolean expected \(0 or 1\)"):
        Boolean().parse(text)


def test_flag_accepts_any_integer():
    assert Boolean(any_integer=True).parse("2") is True
    with pytest.raises(ValueError, match="boolean expected, got 1"):
        Boolean().check(1)


@pytest.mark.parametrize("text, value, rendered", [
    ("6", 6.0, "6"), ("0.5", 0.5, "0.5"), ("0x10", 16.0, "16"), ("2.25", 2.25, "2.25"), ("010", 8.0, "8"),
])
def test_seconds(text, value, rendered):
    kind = Seconds(0.1, 3600)
    assert kind.parse(text) == value
    assert isinstance(kind.parse(text), float)
    assert kind.format(kind.parse(text)) == rendered


@pytest.mark.parametrize("text, message", [
    ("0", r"'0' is out of range \(0.1-3600\)"), ("1e3", "number of seconds expected, got '1e3'"),
    (".5", "number of seconds expected"), ("5s", "number of seconds expected"), ("3601", "out of range"),
])
def test_seconds_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        Seconds(0.1, 3600).parse(text)


def test_seconds_check_rejects_nan_and_strings():
    with pytest.raises(ValueError, match="finite"):
        Seconds(0, 10).check(math.nan)
    with pytest.raises(ValueError, match="number of seconds expected"):
        Seconds(0, 10).check("5")


@pytest.mark.parametrize("text, value", [
    ("192.168.1.1", "192.168.1.1"), ("0.0.0.0", "0.0.0.0"), ("2001:DB8::0:1", "2001:db8::1"), ("::1", "::1"),
    ("lvs1.example.com", "lvs1.example.com"), ("director-a", "director-a"), ("host.example.", "host.example."),
])
def test_host_normalizes_addresses_and_keeps_hostnames(text, value):
    assert Host().parse(text) == value


@pytest.mark.parametrize("text, message", [
    ("1.2.3", "'1.2.3' is not a valid IPv4 address"), ("256.1.1.1", "not a valid IPv4 address"),
    ("010.0.0.1", "not a valid IPv4 address"), ("2001:db8::g", "not a valid IPv6 address"),
    ("-bad.example", "invalid host name or ip address: '-bad.example'"), ("a..b", "invalid host name"),
    ("under_score", "invalid host name"), ("example.123", "invalid host name"),
])
def test_host_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        Host().parse(text)


def test_address_only_host_rejects_names_and_non_canonical_values():
    with pytest.raises(ValueError, match="not a valid IPv4 address"):
        Host(hostnames=False).parse("sorry.example.com")
    with pytest.raises(ValueError, match=r"canonical form \(2001:db8::1\)"):
        Host().check("2001:DB8::1")


def test_host_device_needs_both_values():
    assert HostDevice().parse("10.0.0.1 eth0:1") == ("10.0.0.1", "eth0:1")
    assert HostDevice().format(("10.0.0.1", "eth0:1")) == "10.0.0.1 eth0:1"
    with pytest.raises(ValueError, match="expected an address and an interface"):
        HostDevice().parse("10.0.0.1")
    with pytest.raises(ValueError, match="not an interface name"):
        HostDevice().parse("10.0.0.1 eth0/1")


@pytest.mark.parametrize("text", ["eth0", "eth0:1", "bond0.100", "br-lan", "veth@if2"])
def test_interface_names(text):
    assert Interface().parse(text) == text


@pytest.mark.parametrize("text", ["", "a" * 16, "eth0:1:2", "eth 0", "eth0/1"])
def test_interface_rejects(text):
    with pytest.raises(ValueError, match="is not an interface name"):
        Interface().parse(text)


@pytest.mark.parametrize("text, value", [
    ("255.255.255.0", "255.255.255.0"), ("255.255.255.255", "255.255.255.255"), ("0xffffff00", "255.255.255.0"),
    ("255.255.254.0", "255.255.254.0"), ("0", "0.0.0.0"), ("255.255.0xff00", "255.255.255.0"),
])
def test_netmask_reads_inet_aton_forms(text, value):
    assert Netmask().parse(text) == value


@pytest.mark.parametrize("text, message", [
    ("255.0.255.0", "'255.0.255.0' is not a contiguous netmask"), ("24", "'24' is not a contiguous netmask"),
    ("255.255.255.256", "Bad subnet mask specified: '255.255.255.256'"), ("mask", "Bad subnet mask"),
])
def test_netmask_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        Netmask().parse(text)


def test_choice_is_case_sensitive_and_lists_the_choices():
    kind = Choice("rr", "wlc")
    assert kind.parse("rr") == "rr"
    with pytest.raises(ValueError, match="'RR' is not one of: rr, wlc"):
        kind.parse("RR")


@pytest.mark.parametrize("value, message", [
    ("a\nb", "control character"), ("a\x00b", "control character"), ('say "hi"', "double quote"),
    ("x" * 256, "at most 255"), ("\udcff", "not UTF-8"),
])
def test_quoted_text_rejects_what_cannot_be_written(value, message):
    with pytest.raises(ValueError, match=message):
        Text(quoted=True, max_length=255).check(value)


@pytest.mark.parametrize("value, rendered", [
    ("ssh", "ssh"), ("/usr/bin/notify up now", '"/usr/bin/notify up now"'), ('say "hi" now', "'say \"hi\" now'"),
    ("", '""'), ("it's", "it's"),
])
def test_bare_values_are_quoted_only_when_needed(value, rendered):
    assert format_bare(value) == rendered


def test_plain_text_with_both_quotes_and_a_blank_cannot_be_written():
    with pytest.raises(ValueError, match="both quote characters and needs quoting"):
        Text().check("a \"b\" 'c'")


def test_path_must_be_absolute():
    assert Path().parse("/etc/piranha/heartbeat.key") == "/etc/piranha/heartbeat.key"
    with pytest.raises(ValueError, match="'heartbeat.key' is not an absolute path"):
        Path().parse("heartbeat.key")


@pytest.mark.parametrize("name", ["", "two words", "brace{", 'quo"te', "#hash", "tab\tname", "="])
def test_names_must_be_one_plain_word(name):
    with pytest.raises(ValueError, match="is not a usable name"):
        Name().check(name)


def test_word_list():
    assert WordList().parse("[ /etc /var/www ]") == ("/etc", "/var/www")
    assert WordList().format(("/etc",)) == "[ /etc ]"
    with pytest.raises(ValueError, match="list expected"):
        WordList().parse("/etc")
