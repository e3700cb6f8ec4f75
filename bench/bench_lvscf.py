"""Benchmark of piranha.lvscf on a large file: 1,000 virtual servers x 10 real servers (~70k lines).

Prints parse, validate and render times and the ratio of parse + validate to the 0.5 s goal.
Run: .venv/bin/python bench/bench_lvscf.py [--virtual 1000] [--real 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ipaddress
import time

from piranha import lvscf

GOAL_SECONDS = 0.5


def generate(virtual_count: int, real_count: int) -> str:
    """Canonical-style lvs.cf text with every virtual server on its own VIP and real servers in 10.0.0.0/8."""
    lines = ["serial_no = 1", "primary = 192.168.0.1", "service = lvs", "backup_active = 1",
             "backup = 192.168.0.2", "heartbeat_port = 539", "keepalive = 2", "deadtime = 6", "network = nat",
             "nat_router = 10.255.255.254 eth1:1", "nat_nmask = 255.0.0.0"]
    vip_base = int(ipaddress.IPv4Address("172.16.0.0"))
    rip_base = int(ipaddress.IPv4Address("10.0.0.0"))
    for v in range(virtual_count):
        vip = ipaddress.IPv4Address(vip_base + v + 1)
        lines += [f"virtual vs{v} {{", "     active = 1", f"     address = {vip} eth0:{v % 100}",
                  "     vip_nmask = 255.255.0.0", "     port = 80", f"     persistent = {v % 2 * 300}",
                  '     send = "GET / HTTP/1.0\\r\\n\\r\\n"', '     expect = "HTTP"', "     use_regex = 0",
                  "     load_monitor = none", "     scheduler = wlc", "     protocol = tcp", "     timeout = 6",
                  "     reentry = 15", "     quiesce_server = 0"]
        for r in range(real_count):
            rip = ipaddress.IPv4Address(rip_base + v * real_count + r + 1)
            lines += [f"     server rs{r} {{", f"         address = {rip}", "         active = 1",
                      f"         port = {8080 + r % 2}", f"         weight = {1 + r % 5}", "     }"]
        lines.append("}")
    return "\n".join(lines) + "\n"


def best_of(repeat: int, func, *args):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--virtual", type=int, default=1000)
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best time is printed")
    args = parser.parse_args(argv)
    text = generate(args.virtual, args.real)
    line_count = text.count("\n")
    parse_s, config = best_of(args.repeat, lvscf.loads, text)
    validate_s, problems = best_of(args.repeat, config.validate)
    if problems:
        raise SystemExit(f"generated file does not validate: {problems[0]}")
    render_s, rendered = best_of(args.repeat, lvscf.dumps, config)
    if lvscf.loads(rendered) != config:
        raise SystemExit("rendered text does not read back to the same model")
    total = parse_s + validate_s
    print(f"lvs.cf with {args.virtual} virtual x {args.real} real servers: {line_count} lines, "
          f"{len(text) / 1e6:.1f} MB")
    print(f"parse     {parse_s * 1000:8.1f} ms  ({line_count / parse_s / 1e3:.0f}k lines/s)")
    print(f"validate  {validate_s * 1000:8.1f} ms")
    print(f"render    {render_s * 1000:8.1f} ms")
    print(f"parse + validate {total * 1000:.1f} ms = {total / GOAL_SECONDS:.2f} x the {GOAL_SECONDS} s goal "
          f"({'met' if total <= GOAL_SECONDS else 'NOT met'})")
    return 0 if total <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
