"""The `lvsd` command: parse options, read lvs.cf, run the daemon.

    lvsd -c /etc/sysconfig/ha/lvs.cf --nodaemon          # what pulse runs
    lvsd -c lvs.cf --check-config                        # validate only: exit 0, or 1 with the problems

Logs go to stderr (journald adds the rest) in Piranha's wording where people grep for it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from piranha.lvsd.config import ConfigRefused, read_config
from piranha.lvsd.operator import state_file_beside

DEFAULT_CONFIG = "/etc/sysconfig/ha/lvs.cf"
DEFAULT_SOCKET = "/run/piranha/lvsd.sock"

log = logging.getLogger("lvsd")


def build_parser() -> argparse.ArgumentParser:
    from piranha.lvsd.nanny_link import default_nanny_command

    parser = argparse.ArgumentParser(prog="lvsd", description="Keep the kernel's IPVS table as lvs.cf and the "
                                     "health checks say (only the differences are applied).")
    parser.add_argument("-c", "--configfile", dest="config", default=DEFAULT_CONFIG, metavar="FILE",
                        help=f"lvs.cf to use (default {DEFAULT_CONFIG})")
    parser.add_argument("-n", "--nodaemon", action="store_true", help="stay in the foreground")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    parser.add_argument("-t", "--check-config", action="store_true",
                        help="validate the configuration file and exit (0 = valid)")
    parser.add_argument("--socket", default=DEFAULT_SOCKET, metavar="PATH",
                        help=f"control socket (default {DEFAULT_SOCKET})")
    parser.add_argument("--socket-group", default="piranha", metavar="GROUP",
                        help="group that may use the control socket (default piranha)")
    parser.add_argument("--pidfile", metavar="PATH", help="write the daemon's PID here")
    parser.add_argument("--nanny-command", default=default_nanny_command(), metavar="ARGV0",
                        help="the nanny program (default: the one installed beside lvsd)")
    parser.add_argument("--state-file", metavar="PATH",
                        help="where operator decisions (drained/disabled servers) are kept across reloads and "
                             "restarts (default: the control socket's name with -operator.json, e.g. "
                             "/run/piranha/lvsd-operator.json)")
    parser.add_argument("--syncd", choices=("master", "backup", "stop"), metavar="STATE",
                        help="only set the IPVS connection-sync daemon (master, backup or stop) from lvs.cf's "
                             "syncd_iface/syncd_id and exit; pulse runs this on a standby node")
    parser.add_argument("--ramp-step", type=float, default=20.0, metavar="SECONDS",
                        help="a server back from a failure doubles its weight this often (default 20, as nanny)")
    return parser


def _daemonize() -> None:
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ramp_step <= 0:
        parser.error(f"--ramp-step {args.ramp_step:g} must be positive")
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="lvsd[%(process)d]: %(levelname)s %(message)s")
    try:
        loaded = read_config(args.config)
    except ConfigRefused as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.check_config:
        print(f"{args.config}: valid (serial {loaded.serial})")
        return 0
    if args.syncd:
        return _set_sync_daemon(loaded.config, args.syncd)
    if not args.nodaemon:
        _daemonize()
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    try:
        return asyncio.run(_run(args, loaded))
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass


def _set_sync_daemon(config, state: str) -> int:
    from piranha.lvsd.syncd import SyncDaemonError, set_sync_daemon
    from piranha.net.ipvs import IPVSError, KernelIPVS

    try:
        with KernelIPVS() as ipvs:
            running = set_sync_daemon(ipvs, config, state)
    except (IPVSError, SyncDaemonError) as exc:
        log.critical("cannot set the IPVS sync daemon to %s: %s", state, exc)
        return 1
    log.info("IPVS sync daemons now: %s", ", ".join(f"{d['state']} on {d['interface']}" for d in running) or "none")
    return 0


async def _run(args, loaded) -> int:
    from piranha.lvsd.daemon import Lvsd, Options
    from piranha.net.ipvs import IPVSError, KernelIPVS

    nanny_argv = (args.nanny_command, "--stream") + (("-v",) if args.verbose else ())
    state_file = args.state_file or state_file_beside(args.socket)
    options = Options(config_path=args.config, socket_path=args.socket, nanny_argv=nanny_argv,
                      ramp_step=args.ramp_step, socket_group=args.socket_group, state_file=state_file)
    try:
        ipvs = KernelIPVS()
    except IPVSError as exc:
        log.critical("cannot program IPVS: %s", exc)
        return 1
    with ipvs:
        log.info("starting lvsd with %s (serial %s)", args.config, loaded.serial)
        return await Lvsd(options, ipvs, loaded).run()


if __name__ == "__main__":
    sys.exit(main())
