"""Inside UML: the lab's namespaces, bridges and addresses (test-style iproute2 calls, never daemon code).

    pl-sw    bridges br-pub (client, dir1 eth0, dir2 eth0, UML's init namespace) and br-rs (directors' eth1, rs1-4)
    pl-client 10.0.0.10        pl-dir1 10.0.0.1 / 10.1.0.1     pl-dir2 10.0.0.2 / 10.1.0.2
    pl-rs1..4 10.1.0.11-14, default route via the NAT router 10.1.0.254 (owned by the active director's pulse)
"""

from __future__ import annotations


from lab import CLIENT, DIRECTORS, REAL_SERVERS, NAT_ROUTER, TAP_NET, TAP_PREFIX, \
    TAP_UML_ADDRESS, UML_GATEWAY

from lab.netns import Namespace, sh


class Topology:
    """Every namespace of the lab; `close()` deletes them (processes must be stopped first)."""

    def __init__(self):
        self.spaces: dict[str, Namespace] = {}
        self._links = 0
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "addr", "add", f"{TAP_UML_ADDRESS}/{TAP_PREFIX}", "dev", "eth0")
        sh("ip", "link", "set", "eth0", "up")
        sw = self.add("sw")
        for bridge in ("br-pub", "br-rs"):
            sw.ip("link", "add", bridge, "type", "bridge")
            sw.ip("link", "set", bridge, "up")
        self._plug_init_namespace(sw)
        client = self.add("client")
        self._plug(sw, "br-pub", client, "eth0", f"{CLIENT}/24", "pclient")
        for name, (public, private) in DIRECTORS.items():
            director = self.add(name)
            self._plug(sw, "br-pub", director, "eth0", f"{public}/24", f"p{name}")
            self._plug(sw, "br-rs", director, "eth1", f"{private}/24", f"q{name}")
            director.ip("route", "add", TAP_NET, "via", UML_GATEWAY)
            sh(*director.argv("sysctl", "-qw", "net.ipv4.ip_forward=1"))
        for name, address in REAL_SERVERS.items():
            server = self.add(name)
            self._plug(sw, "br-rs", server, "eth0", f"{address}/24", f"p{name}")
            server.ip("route", "add", "default", "via", NAT_ROUTER)

    def add(self, role: str) -> Namespace:
        space = Namespace(f"pl-{role}")
        self.spaces[role] = space
        return space

    def __getitem__(self, role: str) -> Namespace:
        return self.spaces[role]

    def _veth(self) -> tuple[str, str]:
        """A fresh veth pair in UML's own namespace (its ends are moved and renamed by the caller)."""
        self._links += 1
        tmp_a, tmp_b = f"plv{self._links}a", f"plv{self._links}b"
        sh("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
        return tmp_a, tmp_b

    def _plug(self, sw: Namespace, bridge: str, ns: Namespace, name: str, address: str, port: str) -> None:
        inside, outside = self._veth()
        sh("ip", "link", "set", inside, "netns", ns.name)
        sh("ip", "link", "set", outside, "netns", sw.name)
        ns.ip("link", "set", inside, "name", name)
        ns.ip("addr", "add", address, "dev", name)
        ns.ip("link", "set", name, "up")
        sw.ip("link", "set", outside, "name", port)
        sw.ip("link", "set", port, "master", bridge)
        sw.ip("link", "set", port, "up")

    def _plug_init_namespace(self, sw: Namespace) -> None:
        """UML's own namespace joins br-pub as the gateway between the TAP link and the public LAN."""
        inside, outside = self._veth()
        sh("ip", "link", "set", outside, "netns", sw.name)
        sh("ip", "link", "set", inside, "name", "pub0")
        sh("ip", "addr", "add", f"{UML_GATEWAY}/24", "dev", "pub0")
        sh("ip", "link", "set", "pub0", "up")
        sw.ip("link", "set", outside, "name", "pinit")
        sw.ip("link", "set", "pinit", "master", "br-pub")
        sw.ip("link", "set", "pinit", "up")

    def set_port(self, port: str, up: bool) -> None:
        """Bring one switch port down or up (the lab's 'cut the link' control)."""
        self.spaces["sw"].ip("link", "set", port, "up" if up else "down")

    def port_is_up(self, port: str) -> bool:
        flags = self.spaces["sw"].ip("-o", "link", "show", port).split("<", 1)[1].split(">", 1)[0]
        return "UP" in flags.split(",")

    def close(self) -> None:
        for space in reversed(list(self.spaces.values())):
            space.close()
        sh("ip", "link", "del", "pub0", check=False)
