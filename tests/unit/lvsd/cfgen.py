"""Small lvs.cf texts for lvsd's tests, written the way the console writes them."""

from __future__ import annotations

from piranha import lvscf


def virtual(name: str, vip: str, servers: list[str], *, port: int = 80, active: int = 1, **keys) -> str:
    lines = [f"virtual {name} {{", f"    active = {active}", f"    address = {vip} eth0:1", f"    port = {port}",
             "    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"", "    expect = \"HTTP\""]
    lines += [f"    {key} = {value}" for key, value in keys.items()]
    lines += servers
    lines.append("}")
    return "\n".join(lines)


def server(name: str, address: str, *, weight: int = 1, active: int = 1, port: int | None = None) -> str:
    lines = [f"    server {name} {{", f"        address = {address}", f"        active = {active}",
             f"        weight = {weight}"]
    if port is not None:
        lines.append(f"        port = {port}")
    lines.append("    }")
    return "\n".join(lines)


def text(*virtuals: str, serial: int = 1, network: str = "nat", **globals_) -> str:
    head = [f"serial_no = {serial}", "primary = 10.9.0.1", "service = lvs", f"network = {network}"]
    if network == "nat":
        head.append("nat_router = 10.1.0.254 eth1:0")
    head += [f"{key} = {value}" for key, value in globals_.items()]
    return "\n".join(head + list(virtuals)) + "\n"


def config(*virtuals: str, **kwargs):
    parsed = lvscf.loads(text(*virtuals, **kwargs))
    problems = parsed.validate()
    assert not problems, [str(p) for p in problems]
    return parsed


def web(**keys) -> str:
    """A three-server NAT web service used by most tests."""
    servers = keys.pop("servers", None) or [server("a", "10.1.0.1", weight=1), server("b", "10.1.0.2", weight=2),
                                            server("c", "10.1.0.3", weight=3, port=8080)]
    return virtual("web", "192.0.2.10", servers, **keys)
