"""send_arp [-i DEV] SRC_IP SRC_HW TARG_IP TARG_HW — one gratuitous ARP request, as Piranha's send_arp(8).

TARG_IP is accepted and ignored, as in the original; TARG_HW is the Ethernet destination (ffffffffffff to
broadcast). Unlike the original, bad arguments and send errors are reported and give a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys

from piranha.net.arp import arp_frame, parse_ipv4, send_frame


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="send_arp", description=__doc__.splitlines()[0])
    parser.add_argument("-i", dest="device", default="eth0", help="device to send on (default eth0)")
    parser.add_argument("-c", dest="count", type=int, default=1, help="frames to send (default 1)")
    parser.add_argument("src_ip", metavar="SRC_IP")
    parser.add_argument("src_hw", metavar="SRC_HW", help="12 hex digits, colons optional")
    parser.add_argument("targ_ip", metavar="TARG_IP", help="ignored, as in Piranha")
    parser.add_argument("targ_hw", metavar="TARG_HW", help="Ethernet destination, e.g. ffffffffffff")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        parse_ipv4(args.targ_ip)
        frame = arp_frame(args.src_ip, args.src_hw, dst_mac=args.targ_hw)
    except ValueError as exc:
        print(f"send_arp: {exc}", file=sys.stderr)
        return 2
    try:
        for _ in range(max(1, args.count)):
            send_frame(args.device, frame)
    except OSError as exc:
        print(f"send_arp: cannot send on {args.device}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
