"""fos (--active | --monitor) [-c FILE] [-n] [-v] [-t]: failover services, run by pulse (PIRANHA-REFERENCE §3.7).

Both modes first run every active service's stop_cmd. ``--active`` (the active node) then runs each start_cmd
and watches the services with nanny's probes; a service that cannot start or later fails makes fos stop them
all and exit with status 3, so pulse hands over (with back-off, so a service broken on both nodes does not
ping-pong). ``--monitor`` (the inactive node) probes the partner's services and exits when one fails (0: it
was available; 1: it never became available), which tells pulse to check its gateway and take over.

fos never forks: pulse supervises it, and a daemonised fos would escape that.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import signal
import sys

from piranha.fos.services import check_spec, start_all, stop_all, where
from piranha.fos.watch import AVAILABLE, PARTNER_LOST, LocalWatch, RemoteWatch
from piranha.nanny.probes import make_probe
from piranha.pulse.settings import SettingsError, load_config

log = logging.getLogger("fos")

EXIT_PARTNER_LOST = 0
EXIT_PARTNER_NEVER_UP = 1
EXIT_BAD_CONFIG = 2
EXIT_LOCAL_FAILED = 3      # pulse: piranha.pulse.daemon.FOS_START_FAILED


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fos", description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("-F", "--active", action="store_true", help="start and watch the services here")
    mode.add_argument("-f", "--monitor", action="store_true", help="watch the partner's services")
    p.add_argument("-c", "--configfile", default="/etc/sysconfig/ha/lvs.cf")
    p.add_argument("-n", "--nodaemon", action="store_true", help="log to stdout instead of syslog")
    p.add_argument("--nofork", action="store_true", help="accepted for compatibility: fos never forks")
    p.add_argument("-t", "--test-start", "--norun", dest="test_start", action="store_true",
                   help="log the start and stop commands instead of running them")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


async def _first_exit(tasks: list[asyncio.Task], stop: asyncio.Event) -> int | None:
    """The exit status of the first watcher that ends, or None when a signal asked us to stop."""
    stopper = asyncio.get_running_loop().create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in (*tasks, stopper):
        task.cancel()
    finished = [t for t in done if t is not stopper]
    return finished[0].result() if finished else None


async def watch_local(service) -> int:
    probe, watch = make_probe(check_spec(service)), LocalWatch()
    while True:
        await asyncio.sleep(float(service.timeout))
        result = await probe.check()
        if watch.observe(result.up):
            log.error("Local service %s failed: %s", where(service), result.message)
            return EXIT_LOCAL_FAILED


async def watch_remote(service) -> int:
    probe, watch = make_probe(check_spec(service)), RemoteWatch()
    log.info("starting FOS monitor for %s", where(service))
    while True:
        result = await probe.check()
        verdict = watch.observe(result.up)
        if verdict == AVAILABLE:
            log.info("Remote service %s is available", where(service))
        elif verdict == PARTNER_LOST:
            log.warning("%s; Exiting due to connection failure", result.message)
            return EXIT_PARTNER_LOST
        elif verdict is not None:
            log.error("Timeout waiting for remote service %s -- triggering failover!", where(service))
            return EXIT_PARTNER_NEVER_UP
        await asyncio.sleep(float(service.timeout))


async def run(services, active: bool, test_start: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    await stop_all(services, test_start)
    if not active:
        status = await _first_exit([loop.create_task(watch_remote(s)) for s in services], stop)
        if status is not None:
            log.info("will now exit to notify pulse...")
        return 0 if status is None else status
    failed = await start_all(services, test_start)
    if failed:
        await stop_all(services, test_start)
        log.error("%d failover service(s) could not start; will now exit to notify pulse...", len(failed))
        return EXIT_LOCAL_FAILED
    status = None if test_start else await _first_exit([loop.create_task(watch_local(s)) for s in services], stop)
    if test_start:
        await stop.wait()
    await stop_all(services, test_start)
    if status is not None:
        log.info("will now exit to notify pulse...")
    return 0 if status is None else status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.nodaemon:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("fos: %(message)s"))
    else:
        handler = logging.handlers.SysLogHandler(address="/dev/log")
        handler.setFormatter(logging.Formatter("fos[%(process)d]: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    try:
        config = load_config(args.configfile)
    except SettingsError as exc:
        print(f"fos: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if config.service != "fos":
        print(f"fos: {args.configfile} has service = {config.service}; fos runs only with service = fos",
              file=sys.stderr)
        return EXIT_BAD_CONFIG
    services = [s for s in config.failover_services if s.active]
    if not services:
        print(f"fos: no active failover services defined in {args.configfile}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    return asyncio.run(run(services, args.active, args.test_start))


if __name__ == "__main__":
    sys.exit(main())
