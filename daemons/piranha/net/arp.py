"""Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6): what tells clients and switches
that a VIP has moved.

The frame is the one Piranha's fixed send_arp built (PIRANHA-REFERENCE §3.4, #245788): an ARP request
(opcode 1) whose sender and target IP are both the VIP, sender MAC = target MAC = Ethernet source = our MAC,
sent to the broadcast address, padded to the 60-byte Ethernet minimum.

    send_gratuitous_arp("eth0", "10.213.0.100", "02:00:00:00:00:01")
    send_unsolicited_na("eth0", "fd00::100", "02:00:00:00:00:01")

The IPv6 announcement is RFC 4861 §7.2.6's: a neighbour advertisement with the Override flag and our MAC as
target link-layer address, to all-nodes (ff02::1) with hop limit 255, from the VIP itself.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
BROADCAST = "ff:ff:ff:ff:ff:ff"
_MIN_FRAME = 60


def parse_mac(text: str) -> bytes:
    """12 hex digits, with or without colons (send_arp's argument format)."""
    digits = text.replace(":", "").replace("-", "")
    if len(digits) != 12:
        raise ValueError(f"{text!r} is not a MAC address (12 hex digits, colons optional)")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ValueError(f"{text!r} is not a MAC address (12 hex digits, colons optional)") from None


def parse_ipv4(text: str) -> bytes:
    try:
        return ipaddress.IPv4Address(text).packed
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def arp_frame(src_ip: str, src_mac: str, dst_mac: str = BROADCAST, target_mac: str | None = None) -> bytes:
    """The Ethernet frame of a gratuitous ARP request announcing src_ip at src_mac."""
    sha = parse_mac(src_mac)
    ip = parse_ipv4(src_ip)
    tha = parse_mac(target_mac) if target_mac else sha
    ethernet = parse_mac(dst_mac) + sha + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 1) + sha + ip + tha + ip
    return (ethernet + arp).ljust(_MIN_FRAME, b"\0")


def send_frame(device: str, frame: bytes) -> None:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((device, ETH_P_ARP))
        sock.send(frame)


def send_gratuitous_arp(device: str, ip: str, mac: str, dst_mac: str = BROADCAST) -> None:
    send_frame(device, arp_frame(ip, mac, dst_mac))


ALL_NODES = "ff02::1"
_NA_OVERRIDE = 0x20000000


def na_message(ip: str, mac: str) -> bytes:
    """ICMPv6 neighbour advertisement (checksum left 0: the kernel fills it on an ICMPv6 raw socket)."""
    target = ipaddress.IPv6Address(ip).packed
    return struct.pack("!BBHI", 136, 0, 0, _NA_OVERRIDE) + target + struct.pack("!BB", 2, 1) + parse_mac(mac)


def send_unsolicited_na(device: str, ip: str, mac: str) -> None:
    index = socket.if_nametoindex(device)
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.bind((ip, 0, 0, index))
        sock.sendto(na_message(ip, mac), (ALL_NODES, 0, 0, index))


def announce_once(device: str, ip: str, mac: str) -> None:
    """One announcement of `ip` at `mac`: a gratuitous ARP for IPv4, an unsolicited NA for IPv6."""
    if ipaddress.ip_address(ip).version == 6:
        send_unsolicited_na(device, ip, mac)
    else:
        send_gratuitous_arp(device, ip, mac)
