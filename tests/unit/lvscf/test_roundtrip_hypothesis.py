"""Property: every valid model survives dumps -> loads unchanged. Value strategies come from the schema types."""

import ipaddress
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piranha import lvscf
from piranha.lvscf import schema
from piranha.lvscf.converters import (
    Boolean, Choice, Host, Integer, Interface, Netmask, Path, Port, Seconds, Text, WordList,
)

# LVSCF_EXAMPLES=2000 for a long local run; the default keeps the unit tier fast.
SETTINGS = settings(max_examples=int(os.environ.get("LVSCF_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Any printable text, with tabs, backslashes, single quotes, braces and '#' (all legal inside a value).
TEXT_CHARS = (st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"')
              | st.sampled_from("\t\\'{}#"))
PLAIN_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t'\"")
NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="{}\"'"),
                min_size=1, max_size=12).filter(lambda n: not n.startswith("#") and n != "=" and n.isprintable())
HOSTNAMES = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)
INTERFACES = st.from_regex(r"(eth|bond|ens)[0-9]{1,2}(:[0-9]{1,3})?", fullmatch=True)


def _plain_ok(value: str) -> bool:
    try:
        Text().check(value)
    except ValueError:
        return False
    return True


def value_of(kw: schema.Keyword):
    """A strategy for any valid value of ``kw`` (address-like keys are drawn separately)."""
    kind = kw.type
    if isinstance(kind, Boolean):
        return st.booleans()
    if isinstance(kind, Seconds):
        return st.integers(int(kind.minimum * 1000), int(kind.maximum * 1000)).map(lambda ms: ms / 1000)
    if isinstance(kind, (Port, Integer)):
        return st.integers(kind.minimum, kind.maximum)
    if isinstance(kind, Choice):
        return st.sampled_from(kind.choices)
    if isinstance(kind, Netmask):
        return st.integers(0, 32).map(lambda n: str(ipaddress.IPv4Network(f"0.0.0.0/{n}").netmask))
    if isinstance(kind, Interface):
        return INTERFACES
    if isinstance(kind, Path):
        return st.text(TEXT_CHARS, max_size=20).map(lambda t: "/" + t).filter(_plain_ok)
    if isinstance(kind, WordList):
        return st.lists(st.from_regex(r"/[a-z]{1,8}", fullmatch=True), max_size=3).map(tuple)
    if isinstance(kind, Text) and kind.quoted:
        return st.text(TEXT_CHARS, max_size=kind.max_length or 60)
    if isinstance(kind, Text):
        return st.text(PLAIN_CHARS, max_size=30).filter(_plain_ok)
    raise AssertionError(f"no strategy for {kw.name} ({type(kind).__name__})")


SKIP = {"primary", "primary_private", "backup", "backup_private", "nat_router", "keepalive", "deadtime",
        "service", "address", "sorry_server", "master", "vip_nmask", "pmask", "fwmark", "port", "use_regex",
        "expect", "start_cmd", "stop_cmd", "active"}


def fill(draw, obj, block: str) -> None:
    """Set every keyword not in SKIP to a drawn value, or leave it unset/default."""
    for kw in schema.keywords(block):
        if kw.name in SKIP or isinstance(kw.type, Host):
            continue
        if draw(st.booleans()):
            setattr(obj, kw.name, draw(value_of(kw)))


BASES = {4: int(ipaddress.IPv4Address("10.0.0.0")), 6: int(ipaddress.IPv6Address("2001:db8::"))}


def addresses(draw, family: int, count: int) -> list[str]:
    """``count`` distinct usable addresses of one family (10.0.0.0/8 or 2001:db8::/32), without filtering."""
    offsets = draw(st.lists(st.integers(1, 2**24 - 2), min_size=count, max_size=count, unique=True))
    return [str(ipaddress.ip_address(BASES[family] + n)) for n in offsets]


def probe(draw, obj) -> None:
    obj.expect = draw(st.none() | value_of(schema.keyword("virtual", "expect")))
    obj.use_regex = draw(st.booleans())
    if obj.use_regex:
        obj.expect = draw(st.sampled_from(["^HTTP/1\\.[01] 200", "OK|READY", "[0-9]+ ok", "*"]))


@st.composite
def configs(draw):
    family = draw(st.sampled_from([4, 6]))
    config = lvscf.LvsConfig()
    fill(draw, config, "global")
    vip_count = draw(st.integers(0, 5))
    hosts = addresses(draw, family, 5 + vip_count)
    config.primary, config.backup = hosts.pop(), hosts.pop()
    config.backup_active = draw(st.booleans())
    if draw(st.booleans()):
        config.primary_private, config.backup_private = hosts.pop(), hosts.pop()
    if draw(st.booleans()):
        config.nat_router, config.nat_router_device = hosts.pop(), draw(INTERFACES)
    config.keepalive = draw(value_of(schema.keyword("global", "keepalive")).filter(lambda s: s < 3600))
    config.deadtime = config.keepalive + draw(st.integers(1, 50_000)) / 1000
    config.service = draw(st.sampled_from(["lvs", "fos"]))
    vips = hosts[:vip_count]
    marks = iter(draw(st.lists(st.integers(1, 2**32 - 1), min_size=6, max_size=6, unique=True)))
    names = iter(draw(st.lists(NAMES, min_size=6, max_size=6, unique=True)))
    blocks = draw(st.lists(st.booleans(), min_size=len(vips), max_size=len(vips)))
    for vip, is_virtual in zip(vips, blocks):
        if is_virtual:
            config.virtual_servers.append(virtual(draw, vip, family, next(names), next(marks), config.network))
        else:
            config.failover_services.append(failover(draw, vip, family, next(names)))
    if config.service == "fos" and not any(f.active for f in config.failover_services):
        config.service = "lvs"
    return config


def virtual(draw, vip, family, name, mark, network):
    server = lvscf.VirtualServer(name=name, address=vip, device=draw(INTERFACES), active=draw(st.booleans()))
    fill(draw, server, "virtual")
    server.port = draw(st.integers(1, 65535))
    server.fwmark = draw(st.sampled_from([None, mark]))
    if family == 4:
        server.vip_nmask = draw(st.none() | value_of(schema.keyword("virtual", "vip_nmask")))
        server.pmask = draw(st.none() | value_of(schema.keyword("virtual", "pmask")))
    server.sorry_server = draw(st.none() | st.just(addresses(draw, family, 1)[0]))
    probe(draw, server)
    real_names = draw(st.lists(NAMES, max_size=4, unique=True))
    targets = addresses(draw, family, len(real_names))
    targets = [draw(st.sampled_from([address, f"rs{i}.example.net"])) for i, address in enumerate(targets)]
    for real_name, address in zip(real_names, targets):
        real = lvscf.RealServer(name=real_name, address=address, active=draw(st.booleans()))
        fill(draw, real, "server")
        if network != "nat":
            real.port = draw(st.sampled_from([None, server.port]))
        server.servers.append(real)
    return server


def failover(draw, vip, family, name):
    service = lvscf.FailoverService(name=name, address=vip, device=draw(INTERFACES), active=draw(st.booleans()))
    fill(draw, service, "failover")
    service.port = draw(st.integers(1, 65535))
    if family == 4:
        service.vip_nmask = draw(st.none() | value_of(schema.keyword("failover", "vip_nmask")))
    command = st.text(TEXT_CHARS, max_size=30).map(lambda t: "/usr/sbin/" + t)
    service.start_cmd, service.stop_cmd = draw(command), draw(command)
    probe(draw, service)
    return service


@SETTINGS
@given(configs())
def test_valid_models_survive_dumps_and_loads(config):
    assert [str(p) for p in config.validate()] == []
    text = lvscf.dumps(config)
    again = lvscf.loads(text)
    assert again == config
    assert again.warnings == []
    assert lvscf.dumps(again) == text


@SETTINGS
@given(st.text(st.sampled_from(list("virtual server failover {}=\"'# \t\r\n0123456789abcdeplortx.:")), max_size=200))
def test_arbitrary_text_parses_or_raises_lvs_config_error(text):
    """No input makes the parser fail any other way, and every error has a line inside the text."""
    try:
        config = lvscf.loads(text)
    except lvscf.LvsConfigError as exc:
        assert exc.errors
        lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        assert all(p.line is None or 1 <= p.line <= lines for p in exc.errors)
    else:
        config.validate()
