"""The VIPs this node holds while active, and the gratuitous ARPs (IPv6: neighbour advertisements) announcing them.

Only pulse adds or removes VIPs. The first ARP for each VIP goes out at once (clients flip to us without
waiting); the repeats, Piranha's 5 × 1 s by default, run in the background and end with Piranha's log line.
"""

from __future__ import annotations

import asyncio
import logging

from piranha.net.addresses import AddressError, Addresses, Vip
from piranha.net.arp import announce_once

log = logging.getLogger("pulse")


class VipOwner:
    def __init__(self, net: Addresses, dry_run: bool = False, arp_repeats: int = 5, arp_interval: float = 1.0,
                 service_word: str = "lvs") -> None:
        self.net = net
        self.dry_run = dry_run
        self.arp_repeats = arp_repeats
        self.arp_interval = arp_interval
        self.service_word = service_word
        self.held: set[Vip] = set()
        self.arps_sent = 0
        self._announcer: asyncio.Task | None = None

    def clear_stale(self, vips: tuple[Vip, ...]) -> None:
        """At start-up we are inactive: drop configured VIPs a killed predecessor left behind."""
        for vip in vips:
            try:
                if not self.dry_run and self.net.present(vip) and self.net.remove(vip):
                    log.warning("removed stale VIP %s left by a previous run", vip)
            except AddressError as exc:
                log.error("cannot check VIP %s: %s", vip, exc)

    def take(self, vips) -> list[Vip]:
        """Raise every VIP not held yet, ARP the new ones at once, and repeat the ARPs in the background."""
        added = []
        for vip in sorted(set(vips) - self.held):
            try:
                if self.dry_run:
                    log.info("test-start: would add VIP %s", vip)
                else:
                    self.net.add(vip)
                    log.info("VIP %s up", vip)
                self.held.add(vip)
                added.append(vip)
            except AddressError as exc:
                log.error("%s", exc)
        if added:
            self._send_round(added)
            self._start_repeats()
        return added

    def drop(self, vips=None) -> list[Vip]:
        """Remove the given held VIPs (all when None)."""
        targets = sorted(self.held if vips is None else set(vips) & self.held)
        if vips is None and self._announcer:
            self._announcer.cancel()
        for vip in targets:
            try:
                if self.dry_run:
                    log.info("test-start: would remove VIP %s", vip)
                elif self.net.remove(vip):
                    log.info("VIP %s down", vip)
            except AddressError as exc:
                log.error("%s", exc)
            self.held.discard(vip)
        return targets

    def reannounce(self) -> None:
        if self.held:
            self._send_round(sorted(self.held))
            self._start_repeats()

    def _send_round(self, vips) -> None:
        for vip in vips:
            what = "gratuitous ARP" if vip.version == 4 else "unsolicited neighbour advertisement"
            if self.dry_run:
                log.info("test-start: would send %s for %s", what, vip)
                continue
            try:
                announce_once(vip.base_device, vip.address, self.net.hwaddr(vip.base_device))
                self.arps_sent += 1
            except (OSError, AddressError) as exc:
                log.error("%s for %s failed: %s", what, vip, exc)

    def _start_repeats(self) -> None:
        """(Re)start the repeat rounds for every held VIP; a newer round replaces an older one."""
        if self._announcer and not self._announcer.done():
            self._announcer.cancel()
        self._announcer = asyncio.get_running_loop().create_task(self._repeat())

    async def _repeat(self) -> None:
        for _ in range(self.arp_repeats - 1):
            await asyncio.sleep(self.arp_interval)
            self._send_round(sorted(self.held))
        log.info("gratuitous %s arps finished", self.service_word)

    def describe(self) -> list[dict]:
        return [{"address": v.address, "prefixlen": v.prefixlen, "device": v.device} for v in sorted(self.held)]
