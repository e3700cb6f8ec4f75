"""VIP ownership through netlink: add and remove addresses, find our own, read MAC addresses.

Piranha's ``eth0:1`` devices were ifconfig aliases; here they become address labels on the base device, so
``ip addr`` and ``ifconfig`` both show them by their old names and removing one never touches the NIC.

    with Addresses() as net:
        vip = Vip.from_config("10.213.0.100", "eth0:1", "255.255.255.0")
        net.add(vip)            # True: added (False: it was already there)
        net.hwaddr(vip.base_device)
        net.remove(vip)
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

IFA_F_SECONDARY = 0x01
IFA_F_NODAD = 0x02
_EEXIST, _EADDRNOTAVAIL, _ENODEV = 17, 99, 19


class AddressError(Exception):
    pass


@dataclass(frozen=True, order=True)
class Vip:
    """An address pulse owns while active: a virtual server's VIP, a failover service's or the NAT router's."""

    address: str
    device: str
    prefixlen: int

    @classmethod
    def from_config(cls, address: str, device: str | None, netmask: str | None) -> "Vip":
        if not device:
            raise AddressError(f"address {address} has no device to live on (give device = eth0:1 or similar)")
        ip = ipaddress.ip_address(address)
        full = ip.max_prefixlen
        if netmask in (None, "", "0.0.0.0"):
            prefixlen = full
        elif "." in str(netmask) or ":" in str(netmask):
            prefixlen = ipaddress.ip_network(f"0.0.0.0/{netmask}" if ip.version == 4 else f"::/{netmask}").prefixlen
        else:
            prefixlen = int(netmask)
        return cls(str(ip), device, prefixlen)

    @property
    def base_device(self) -> str:
        return self.device.split(":", 1)[0]

    @property
    def label(self) -> str | None:
        return self.device if ":" in self.device else None

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version

    @property
    def broadcast(self) -> str | None:
        """(VIP & mask) | ~mask, as Piranha's ifconfig call set it; None for IPv6 and /31, /32."""
        if self.version != 4 or self.prefixlen >= 31:
            return None
        return str(ipaddress.ip_network(f"{self.address}/{self.prefixlen}", strict=False).broadcast_address)

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen} on {self.device}"


def _materialized(function, *args, **kwargs):
    result = function(*args, **kwargs)
    return list(result) if hasattr(result, "__next__") else result


class Addresses:
    """A netlink socket in the current network namespace (the daemon's own).

    pyroute2's synchronous API runs its own event loop, which cannot run in a thread whose loop is running
    (pulse's), so the socket lives in one worker thread and each call waits for it there (about a millisecond).
    """

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlink")
        try:
            self._ipr = self._worker.submit(IPRoute).result()
        except BaseException:
            self._worker.shutdown()
            raise

    def close(self) -> None:
        try:
            self._worker.submit(self._ipr.close).result()
        finally:
            self._worker.shutdown()

    def netlink(self, method: str, *args, **kwargs):
        """Call an IPRoute method in the netlink thread and return its (materialized) result."""
        return self._worker.submit(_materialized, getattr(self._ipr, method), *args, **kwargs).result()

    def link(self, index: int):
        return self.netlink("get_links", index)[0]

    def __enter__(self) -> "Addresses":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def index(self, device: str) -> int:
        found = self.netlink("link_lookup", ifname=device)
        if not found:
            raise AddressError(f"no network device {device!r}")
        return found[0]

    def hwaddr(self, device: str) -> str:
        link = self.link(self.index(device))
        mac = link.get_attr("IFLA_ADDRESS")
        if not mac:
            raise AddressError(f"device {device!r} has no hardware address")
        return mac

    def own_addresses(self, primary_only: bool = True) -> dict[str, int]:
        """Addresses on this host mapped to their device index; secondary (alias) addresses only on request."""
        found = {}
        for msg in self.netlink("get_addr"):
            if primary_only and msg["flags"] & IFA_F_SECONDARY:
                continue
            flags = msg.get_attr("IFA_FLAGS") or 0
            if primary_only and flags & IFA_F_SECONDARY:
                continue
            found[str(ipaddress.ip_address(msg.get_attr("IFA_ADDRESS")))] = msg["index"]
        return found

    def device_of(self, address: str) -> str | None:
        """The name of the device that carries `address` (any flag), or None."""
        index = self.own_addresses(primary_only=False).get(str(ipaddress.ip_address(address)))
        if index is None:
            return None
        return self.link(index).get_attr("IFLA_IFNAME")

    def present(self, vip: Vip) -> bool:
        index = self.index(vip.base_device)
        for msg in self.netlink("get_addr", index=index):
            if str(ipaddress.ip_address(msg.get_attr("IFA_ADDRESS"))) == vip.address:
                return True
        return False

    def add(self, vip: Vip) -> bool:
        """Add the VIP; False when it was already there."""
        if vip.version == 4:
            extra = {"label": vip.label} if vip.label else {}
            if vip.broadcast:
                extra["broadcast"] = vip.broadcast
        else:
            # IPv6 has no labels; no duplicate detection either: the VIP is ours at once (it moves, it is not
            # duplicated), so it can be announced from itself right away.
            extra = {"flags": IFA_F_NODAD}
        try:
            self.netlink("addr", "add", index=self.index(vip.base_device), address=vip.address,
                          prefixlen=vip.prefixlen, **extra)
        except NetlinkError as exc:
            if exc.code == _EEXIST:
                return False
            raise AddressError(f"cannot add {vip}: {exc.args[1] if len(exc.args) > 1 else exc}") from None
        return True

    def remove(self, vip: Vip) -> bool:
        """Remove the VIP; False when it was not there."""
        try:
            index = self.index(vip.base_device)
        except AddressError:
            return False
        try:
            self.netlink("addr", "del", index=index, address=vip.address, prefixlen=vip.prefixlen)
        except NetlinkError as exc:
            if exc.code in (_EADDRNOTAVAIL, _ENODEV):
                return False
            raise AddressError(f"cannot remove {vip}: {exc.args[1] if len(exc.args) > 1 else exc}") from None
        return True

    def default_gateways(self) -> list[str]:
        """IPv4 default gateways of the main routing table, as `ip route show` lists them."""
        return [route.get_attr("RTA_GATEWAY") for route in self.netlink("get_routes", family=2, table=254)
                if route["dst_len"] == 0 and route.get_attr("RTA_GATEWAY")]
