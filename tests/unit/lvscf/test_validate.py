"""Semantic rules on models built in memory (as the console builds them): each problem keyed by block and field."""

import pytest

from piranha import lvscf
from piranha.lvscf import FailoverService, LvsConfig, RealServer, VirtualServer


def base(**settings) -> LvsConfig:
    return LvsConfig(primary="10.0.0.1", **settings)


def web(name="web", address="10.0.1.80", **settings) -> VirtualServer:
    return VirtualServer(name=name, active=True, address=address, device="eth0:1", **settings)


def problems(config) -> list[tuple]:
    return [(p.block, p.keyword, p.detail) for p in config.validate()]


def test_a_minimal_model_is_valid():
    config = base()
    config.virtual_servers.append(web(servers=[RealServer(name="a", address="10.0.2.1", active=True)]))
    assert config.validate() == []


def test_type_checks_apply_to_values_set_in_memory():
    config = base(keepalive="2", heartbeat_port=70000, network="masq")
    config.virtual_servers.append(web(scheduler="pcc", servers=[RealServer(name="a", weight=-3)]))
    assert problems(config) == [
        ((), "heartbeat_port", "'70000' is out of range (1-65535)"),
        ((), "keepalive", "a number of seconds expected, got '2'"),
        ((), "network", "'masq' is not one of: nat, direct, tunnel"),
        (("virtual", "web"), "scheduler",
         "'pcc' is not one of: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh"),
        (("virtual", "web", "server", "a"), "weight", "'-3' is out of range (0-65535)"),
    ]


def test_problem_lines_come_from_the_file_when_parsed():
    config = lvscf.loads("primary = 10.0.0.1\nkeepalive = 9\ndeadtime = 4\n")
    (problem,) = config.validate()
    assert (problem.line, problem.keyword, str(problem)) == \
        (3, "deadtime", "3: deadtime: must be longer than keepalive (4 <= 9 s)")


def test_address_and_device_go_together():
    config = base(nat_router="10.0.0.254")
    config.virtual_servers.append(VirtualServer(name="v", device="eth0:1"))
    assert problems(config) == [
        ((), "nat_router", "needs both an address and an interface, e.g. '10.0.0.1 eth0:1'"),
        (("virtual", "v"), "address", "needs both an address and an interface, e.g. '10.0.0.1 eth0:1'"),
    ]


@pytest.mark.parametrize("settings, expected", [
    ({"backup_active": True}, [("backup_active", "backup_active = 1 needs a backup address")]),
    ({"backup_active": True, "backup": "0.0.0.0"}, [("backup_active", "backup_active = 1 needs a backup address")]),
    ({"backup_active": True, "backup": "10.0.0.1"}, [("backup", "10.0.0.1 is also the primary's address")]),
    ({"backup_active": True, "backup": "2001:db8::2"},
     [("backup", "primary and backup must both be IPv4 or both IPv6 addresses")]),
    ({"backup_active": True, "backup": "10.0.0.2", "primary_private": "10.9.0.1"},
     [("primary_private", "needs backup_private, the backup's end of the heartbeat path")]),
    ({"backup_active": True, "backup": "10.0.0.2", "primary_private": "10.9.0.1", "backup_private": "10.9.0.1"},
     [("backup_private", "10.9.0.1 is also primary_private")]),
    ({"backup_private": "10.9.0.2"},
     [("backup_private", "has no effect without primary_private (Piranha ignored it): set both or neither")]),
    ({"primary_private": "0.0.0.0", "backup_private": "10.9.0.2"},
     [("primary_private", "0.0.0.0 is not a usable heartbeat address")]),
    ({"keepalive": 5, "deadtime": 5}, [("deadtime", "must be longer than keepalive (5 <= 5 s)")]),
    ({"nat_router": "0.0.0.0", "nat_router_device": "eth1:1"},
     [("nat_router", "0.0.0.0 is not a usable router address")]),
    ({"backup_active": True, "backup": "10.0.0.2", "primary_private": "10.9.0.1", "backup_private": "10.9.0.2",
      "keepalive": 0.5, "deadtime": 1.5}, []),
])
def test_director_rules(settings, expected):
    assert [(k, d) for _, k, d in problems(base(**settings))] == expected


def test_primary_is_required():
    assert problems(LvsConfig()) == [((), "primary", "the primary director's address is required")]


def test_duplicate_virtual_services_and_names():
    config = base()
    config.virtual_servers += [web("a"), web("a", address="10.0.1.81"), web("c", protocol="udp"),
                               web("d", address="10.0.1.80")]
    assert [(b, k, d.split(" (line")[0]) for b, k, d in problems(config)] == [
        (("virtual", "a"), None, "virtual name 'a' is used twice"),
        (("virtual", "d"), "address", "10.0.1.80 tcp port 80 is already virtual 'a'"),
    ]


def test_shared_fwmark_must_share_scheduling_and_persistence_but_not_protocol():
    config = base()
    config.virtual_servers += [web("tcp53", fwmark=5, port=53, persistent=60),
                               web("udp53", fwmark=5, port=53, persistent=60, protocol="udp", address="10.0.1.81"),
                               web("other", fwmark=5, persistent=30, scheduler="rr", address="10.0.1.82")]
    assert [(k, d.split(",")[0]) for _, k, d in problems(config)] == [
        ("persistent", "virtual servers sharing fwmark 5 must agree: this one has 30"),
        ("scheduler", "virtual servers sharing fwmark 5 must agree: this one has rr"),
    ]


def test_a_vip_shared_by_blocks_needs_one_device_and_netmask():
    config = base()
    config.virtual_servers += [web("a"), web("b", port=443, vip_nmask="255.255.255.0")]
    config.virtual_servers[1].device = "eth1:1"
    assert [k for _, k, _ in problems(config)] == ["address", "vip_nmask"]


def test_real_server_rules():
    config = base(network="tunnel")
    virtual = web(servers=[RealServer(name="a", address="10.0.2.1", active=True),
                           RealServer(name="a", address="10.0.2.1", active=True, port=80),
                           RealServer(name="b", address="10.0.2.2", port=8080),
                           RealServer(name="c", active=True),
                           RealServer(name="d", address="2001:db8::5"),
                           RealServer(name="e", address="lb.example.net")])
    config.virtual_servers.append(virtual)
    assert [(b[-1], k, d) for b, k, d in problems(config)] == [
        ("a", None, "real server name 'a' is used twice in virtual server 'web'"),
        ("a", "address", "10.0.2.1 port 80 is already real server 'a' of this virtual server"),
        ("b", "port", "network = tunnel cannot change the port (80 -> 8080); remove the server's port or use "
                      "network = nat"),
        ("c", "address", "an active real server needs an address"),
        ("d", "address", "an IPv6 real server cannot serve the IPv4 VIP 10.0.1.80"),
    ]


def test_ipv6_virtual_server_rules():
    config = base()
    config.virtual_servers.append(web(address="2001:db8::80", vip_nmask="255.255.255.0", pmask="255.255.0.0",
                                      sorry_server="10.0.0.9"))
    assert [(k, d) for _, k, d in problems(config)] == [
        ("vip_nmask", "is an IPv4 netmask; it cannot apply to the IPv6 VIP"),
        ("pmask", "is an IPv4 netmask; it cannot apply to the IPv6 VIP"),
        ("sorry_server", "must be an IPv6 address like the VIP"),
    ]


def test_probe_rules():
    config = base()
    config.virtual_servers += [web("a", use_regex=True), web("b", address="10.0.1.81", use_regex=True, expect="[a-"),
                               web("c", address="10.0.1.82", use_regex=True, expect="*"),
                               web("d", address="10.0.1.83", send='GET "/"')]
    assert [(b[1], k, d.split(":")[0]) for b, k, d in problems(config)] == [
        ("a", "use_regex", "use_regex = 1 needs expect (the regular expression to match)"),
        ("b", "expect", "'[a-' is not a valid regular expression"),
        ("d", "send", "'GET \"/\"' contains a double quote, which cannot be written inside the quoted value (the file "
                      "format has no escape for it)"),
    ]


def test_names_that_cannot_be_written_are_errors():
    config = base()
    config.virtual_servers.append(web("my web", servers=[RealServer(name="r{1}")]))
    assert [(b, d.split(" is")[0]) for b, _, d in problems(config)] == [
        (("virtual", "my web"), "virtual name: 'my web'"),
        (("virtual", "my web", "server", "r{1}"), "server name: 'r{1}'"),
    ]


def test_failover_rules_under_service_fos():
    config = base(service="fos")
    config.failover_services += [
        FailoverService(name="ok", active=True, address="10.0.1.90", device="eth0:1", start_cmd="/usr/sbin/x start",
                        stop_cmd="/usr/sbin/x stop"),
        FailoverService(name="bad", active=True, address="10.0.1.90", device="eth0:1", start_cmd="x start"),
        FailoverService(name="novip", active=True, start_cmd="/bin/a", stop_cmd="/bin/b"),
    ]
    assert [(b[1], k, d.split(" (line")[0]) for b, k, d in problems(config)] == [
        ("bad", "start_cmd", "'x start' must start with the command's absolute path"),
        ("bad", "stop_cmd", "a failover service needs stop_cmd (service = fos)"),
        ("novip", "address", "an active failover service needs a VIP ('address = IP DEVICE')"),
        ("bad", "address", "10.0.1.90 tcp port 80 is already failover 'ok'"),
    ]


def test_fos_needs_failover_blocks_and_lvs_ignores_their_commands():
    assert problems(base(service="fos")) == [((), "service", "service = fos needs at least one failover block")]
    config = base()
    config.failover_services.append(FailoverService(name="later", address="10.0.1.90", device="eth0:1"))
    assert config.validate() == []


def test_block_validate_methods_serve_the_console():
    virtual = web(port=0, servers=[RealServer(name="a", weight=100000)])
    assert [p.keyword for p in virtual.validate()] == ["port", "weight"]
    assert [p.keyword for p in virtual.servers[0].validate(virtual)] == ["weight"]
    assert [p.keyword for p in FailoverService(name="f", port=0).validate()] == ["port", "start_cmd", "stop_cmd"]


def test_render_error_is_an_lvs_config_error_with_the_problem():
    config = base()
    config.virtual_servers.append(web(send="a\nb"))
    with pytest.raises(lvscf.LvsConfigError) as caught:
        lvscf.dumps(config)
    (problem,) = caught.value.errors
    assert (problem.keyword, problem.block) == ("send", ("virtual", "web"))
    assert str(caught.value).startswith("virtual/web: send: 'a\\nb' contains the control character")


def test_floating_addresses_are_not_director_addresses():
    config = base(backup="10.0.0.2", nat_router="10.0.0.2", nat_router_device="eth1:1")
    config.virtual_servers.append(web(address="10.0.0.1"))
    assert [(b, k, d.split(";")[0]) for b, k, d in problems(config)] == [
        ((), "nat_router", "10.0.0.2 is the backup director's own address"),
        (("virtual", "web"), "address", "10.0.0.1 is the primary director's own address"),
    ]



def test_loopback_set_ups_may_share_director_and_service_addresses():
    config = LvsConfig(primary="127.0.0.1", service="fos")
    config.failover_services.append(FailoverService(name="web", active=True, address="127.0.0.1", device="lo:1",
                                                    start_cmd="/bin/svc start", stop_cmd="/bin/svc stop"))
    assert config.validate() == []
