"""pulse [-c FILE] [--nodaemon] [--forceactive] [-v] [--test-start]: the director heartbeat and failover daemon.

argparse → Options (frozen) + PulseSettings from lvs.cf → Pulse → asyncio loop. Exit status 1 when the
configuration cannot run on this node, with the reason on stderr (or in syslog when daemonised).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import logging.handlers
import os
import sys

from piranha.control import DEFAULT_LVSD_SOCKET, DEFAULT_PULSE_SOCKET
from piranha.control.protocol import serve
from piranha.net.addresses import Addresses
from piranha.pulse.channel import ChannelError
from piranha.pulse.commands import handler
from piranha.pulse.daemon import Options, Pulse
from piranha.pulse.pidfile import PidFile, PidFileError
from piranha.pulse.settings import SettingsError, load_config, settings_from_config
from piranha.pulse.state import Role
from piranha.pulse.systemd import notify

DEFAULT_CONFIG = "/etc/sysconfig/ha/lvs.cf"
DEFAULT_PIDFILE = "/run/piranha/pulse.pid"
log = logging.getLogger("pulse")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulse", description=__doc__.splitlines()[0])
    p.add_argument("-c", "--configfile", default=DEFAULT_CONFIG, help=f"lvs.cf to run (default {DEFAULT_CONFIG})")
    p.add_argument("-n", "--nodaemon", action="store_true", help="stay in the foreground, log to stdout")
    p.add_argument("--forceactive", action="store_true", help="activate at once on start-up")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging, passed down to lvsd and fos")
    p.add_argument("-t", "--test-start", "--norun", dest="test_start", action="store_true",
                   help="run the heartbeat and role logic but only log VIPs, ARPs, commands and children")
    p.add_argument("--socket", default=DEFAULT_PULSE_SOCKET, help=f"control socket (default {DEFAULT_PULSE_SOCKET})")
    p.add_argument("--pidfile", default=DEFAULT_PIDFILE, help=f"PID file (default {DEFAULT_PIDFILE})")
    p.add_argument("--lvsd-command", "--lvsd", dest="lvsd_command", default="lvsd", help="lvsd program")
    p.add_argument("--lvsd-socket", default=DEFAULT_LVSD_SOCKET, help=f"lvsd's control socket ({DEFAULT_LVSD_SOCKET})")
    p.add_argument("--no-lvsd", action="store_true",
                   help="LVS mode without lvsd: own the VIPs only (stand-alone VIP failover, and the tests)")
    p.add_argument("--fos-command", "--fos", dest="fos_command", default="fos", help="fos program")
    p.add_argument("--arp-repeats", type=int, default=5, help="gratuitous ARPs per VIP on activation (default 5)")
    p.add_argument("--arp-interval", type=float, default=1.0, help="seconds between them (default 1)")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()} (piranha-daemons)")
    p.add_argument("--child-backoff", type=float, default=30.0,
                   help="seconds before activating again after lvsd/fos failed here; doubles on repeats")
    return p


def _version() -> str:
    try:
        return importlib.metadata.version("piranha-daemons")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def syslog_handler() -> logging.Handler:
    """Like C's openlog(): a syslog that is not there yet is not an error; records go once it is."""
    handler_ = logging.handlers.SysLogHandler(address="/dev/log")
    handler_.setFormatter(logging.Formatter("pulse[%(process)d]: %(message)s"))
    return handler_


def setup_logging(verbose: bool, handler_: logging.Handler | None = None) -> None:
    """stdout as "pulse: message" (Piranha's --nodaemon format), or the given handler."""
    if handler_ is None:
        handler_ = logging.StreamHandler(sys.stdout)
        handler_.setFormatter(logging.Formatter("pulse: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler_]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def daemonize() -> None:
    """Piranha's double fork: detach from the terminal and the session; stdio to /dev/null."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


async def serve_and_run(pulse: Pulse, socket_path: str) -> int:
    try:
        await pulse.open_channel()
    except ChannelError as exc:
        log.error("%s", exc)
        return 1
    server = await serve(socket_path, handler(pulse), group="piranha")
    notify("READY=1")
    try:
        return await pulse.run()
    finally:
        notify("STOPPING=1")
        server.close()
        await server.wait_closed()
        if os.path.exists(socket_path):
            os.unlink(socket_path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    with Addresses() as probe:
        own_addresses = set(probe.own_addresses())
    try:
        config = load_config(args.configfile)
        if config.backup_active and config.backup in (None, "", "0.0.0.0"):
            log.warning("Undefined backup node marked as active? -- clearing that!")
        settings = settings_from_config(args.configfile, config, own_addresses)
    except SettingsError as exc:
        print(f"pulse: {exc}", file=sys.stderr)
        return 1
    if settings.role is Role.BACKUP and not config.backup_active:
        log.info("We are backup node and backup is marked inactive -- exiting pulse")
        return 0
    options = Options(config_path=args.configfile, socket_path=args.socket, pidfile=args.pidfile,
                      force_active=args.forceactive, verbose=args.verbose, test_start=args.test_start,
                      no_lvsd=args.no_lvsd, lvsd_command=args.lvsd_command, lvsd_socket=args.lvsd_socket,
                      fos_command=args.fos_command, arp_repeats=max(1, args.arp_repeats),
                      arp_interval=args.arp_interval, child_backoff=args.child_backoff)
    if not args.nodaemon:
        daemonize()
        setup_logging(args.verbose, syslog_handler())
    net = Addresses()        # after the fork: its netlink thread must live in the daemon
    try:
        with PidFile(args.pidfile):
            return asyncio.run(serve_and_run(Pulse(options, settings, net), args.socket))
    except PidFileError as exc:
        log.error("%s", exc)
        return 1
    finally:
        net.close()


if __name__ == "__main__":
    sys.exit(main())
