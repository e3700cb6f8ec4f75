"""The ``nanny`` command: ``--stream`` for lvsd, or Piranha's single-server command line for debugging a check.

    nanny --stream                                   plans on stdin, events on stdout (spec.py)
    nanny -h 10.0.0.5 -p 80 -s 'GET / HTTP/1.0\\r\\n\\r\\n' -x HTTP -t 5 -c 3

As in Piranha, ``-h`` is the host to check (help is ``--help``) and ``-t`` is both the interval between checks
and the timeout of each. ``-c`` is a check count here: Piranha's ``-c/--nofork`` has no meaning for a nanny
that never daemonises (lvsd supervises it). The single-server mode prints one line per check, plus Piranha's ``[ active ]`` /
``[inactive]`` line on each transition, and exits 0 if the last check passed, 1 if it failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from piranha.nanny.health import Health
from piranha.nanny.probes import make_probe
from piranha.nanny.probes.base import endpoint
from piranha.nanny.spec import CheckSpec

DEFAULT_WEB_SEND = "GET / HTTP/1.0\\r\\n\\r\\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nanny", add_help=False,
        description="Health checks of LVS real servers: one server from the command line, or every server "
                    "lvsd plans with --stream.")
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("--stream", action="store_true", help="read plans on stdin, write events on stdout")
    parser.add_argument("--resync", type=float, default=30.0, metavar="SECONDS",
                        help="--stream: send every server's state this often (default 30)")
    one = parser.add_argument_group("single server")
    one.add_argument("-h", "--server", metavar="RIP", help="real server address to check")
    one.add_argument("-p", "--port", type=int, default=80, help="virtual service port (default 80)")
    one.add_argument("-r", "--rport", type=int, help="real server port to check (default: --port)")
    one.add_argument("-s", "--send_string", metavar="SEND", help="string to send (escapes \\r \\n \\t \\\\)")
    one.add_argument("-x", "--expect_string", metavar="EXPECT", help="expected reply prefix, or * for any")
    one.add_argument("--regex", action="store_true", help="EXPECT is a regular expression")
    one.add_argument("-e", "--send_program", metavar="PROGRAM", help="external check; %%h = RIP, %%p = port")
    one.add_argument("-u", "--udp", action="store_true", help="check over UDP")
    one.add_argument("-t", "--interval", type=float, default=10.0, metavar="TIMEOUT",
                     help="seconds between checks and timeout of each (default 10)")
    one.add_argument("-a", "--reentrytime", type=float, default=180.0, metavar="REENTRY",
                     help="seconds of passing checks before a failed server is up again (default 180)")
    one.add_argument("--failures", type=int, default=1, help="consecutive failures before down (default 1)")
    one.add_argument("-c", "--count", type=int, metavar="COUNT", help="stop after COUNT checks (default: run on)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    return parser


def spec_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> CheckSpec:
    send, expect = args.send_string, args.expect_string
    port = args.rport if args.rport is not None else args.port
    if port == 80 and not (send or expect or args.send_program):
        logging.getLogger("nanny").info("no monitor configured, assuming web service on port 80")
        send, expect = DEFAULT_WEB_SEND, "HTTP"
    try:
        return CheckSpec(id=endpoint(args.server, port), address=args.server, port=port,
                         protocol="udp" if args.udp else "tcp", send=send, expect=expect,
                         use_regex=args.regex, send_program=args.send_program, timeout=args.interval,
                         interval=args.interval, failures=args.failures, reentry=args.reentrytime)
    except ValueError as err:
        parser.error(str(err))


async def check_one(spec: CheckSpec, count: int | None) -> int:
    """Check one server every interval and print each verdict; 0 if the last check passed."""
    try:
        probe = make_probe(spec)
    except ValueError as err:
        print(f"nanny: {err}", file=sys.stderr)
        return 2
    health = Health(spec.failures, spec.reentry, spec.interval)
    where = endpoint(spec.address, spec.port)
    loop = asyncio.get_running_loop()
    this = asyncio.current_task()
    loop.add_signal_handler(signal.SIGTERM, this.cancel)    # the running check (and its program) ends cleanly
    try:
        return await _check_repeatedly(probe, health, where, spec.interval, count)
    except asyncio.CancelledError:
        print(f"nanny: terminated, stopped checking {where}", file=sys.stderr)
        return 0
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def _check_repeatedly(probe, health: Health, where: str, interval: float, count: int | None) -> int:
    loop = asyncio.get_running_loop()
    done = 0
    up = False
    while count is None or done < count:
        started = loop.time()
        result = await probe.check()
        done += 1
        up = result.up
        print(f"{'up' if up else 'down'} {where} {result.latency * 1000:.1f} ms: {result.message}", flush=True)
        changed = health.step(up)
        if changed is True:
            print(f"[ active ] making {where} available", flush=True)
        elif changed is False:
            print(f"[inactive] shutting down {where} due to connection failure", flush=True)
        if count is None or done < count:
            await asyncio.sleep(max(0.0, started + interval - loop.time()))
    return 0 if up else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="nanny: %(message)s")
    if args.stream:
        if args.server:
            parser.error("--stream takes its checks from stdin, not from -h")
        if args.resync < 0:
            parser.error(f"--resync {args.resync:g} must be zero (never) or positive")
        from piranha.nanny.stream import serve
        return asyncio.run(serve(args.resync))
    if not args.server:
        parser.error("give -h RIP (the server to check) or --stream")
    if args.count is not None and args.count < 1:
        parser.error(f"--count {args.count} must be at least 1")
    spec = spec_from_args(args, parser)
    try:
        return asyncio.run(check_one(spec, args.count))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
