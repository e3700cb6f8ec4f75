"""Routing facts pulse needs: the default gateway (for fos's "is it me or the partner?" check)."""

from __future__ import annotations

from piranha.net.addresses import Addresses


def default_gateways(net: Addresses) -> list[str]:
    """IPv4 default gateways of the main table, as `ip route show` lists them."""
    gateways = []
    for route in net.netlink("get_routes", family=2, table=254):
        if route["dst_len"] == 0 and route.get_attr("RTA_GATEWAY"):
            gateways.append(route.get_attr("RTA_GATEWAY"))
    return gateways
