"""Link state of our own NICs through netlink, for ``monitor_links`` (PIRANHA-REFERENCE §3.9).

A NIC that is administratively down, or up without carrier, counts as a lost link. Piranha asked ethtool and
MII; the kernel's IFF_LOWER_UP flag and operstate say the same for every driver, bonds included.
"""

from __future__ import annotations

from dataclasses import dataclass

from piranha.net.addresses import Addresses

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
_UP_OPERSTATES = {"UP", "UNKNOWN"}   # UNKNOWN: drivers that do not report carrier (dummy, tun)


@dataclass(frozen=True)
class LinkState:
    device: str
    up: bool
    why: str


def link_state(net: Addresses, device: str) -> LinkState:
    link = net.link(net.index(device))
    flags = link["flags"]
    operstate = link.get_attr("IFLA_OPERSTATE") or "UNKNOWN"
    if not flags & IFF_UP:
        return LinkState(device, False, "administratively down")
    if not flags & IFF_LOWER_UP or operstate not in _UP_OPERSTATES:
        return LinkState(device, False, f"no carrier (operstate {operstate})")
    return LinkState(device, True, "up")


class LinkWatch:
    """Checks the NICs that carry the given addresses; labels say which is which ("Primary", "Private")."""

    def __init__(self, net: Addresses, addresses: dict[str, str]) -> None:
        self.net = net
        self.addresses = {label: addr for label, addr in addresses.items() if addr}
        self.devices: dict[str, str] = {}

    def failures(self) -> list[str]:
        """One line per lost link, in Piranha's words ("Primary NIC: link down"); empty when all are up."""
        lines = []
        for label, address in self.addresses.items():
            device = self.net.device_of(address) or self.devices.get(label)
            if device is None:
                lines.append(f"{label} NIC: link down (address {address} is on no device)")
                continue
            self.devices[label] = device     # an interface taken down keeps its address, but be safe
            state = link_state(self.net, device)
            if not state.up:
                lines.append(f"{label} NIC: link down ({device} {state.why})")
        return lines
