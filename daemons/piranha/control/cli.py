"""piranha-ctl: check an lvs.cf, and talk to the local pulse (status, reload, takeover, release, and the
operator actions on a real server: drain, enable, disable)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from piranha.control import DEFAULT_PULSE_SOCKET
from piranha.control.client import ControlClient, ControlError, NotRunning


def _problem_line(path: str, problem) -> str:
    where = f"{path}:{problem.line}" if getattr(problem, "line", None) else path
    return f"{where}: {problem.message}"


def check_config(path: str, strict: bool = False) -> int:
    """Print each problem as PATH:LINE: message; 0 when valid, 1 when not (warnings alone keep 0)."""
    from piranha import lvscf

    try:
        config = lvscf.load(path)
    except lvscf.LvsConfigError as exc:
        for problem in exc.errors:
            print(_problem_line(path, problem))
        return 1
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}")
        return 1
    errors = config.validate()
    for problem in config.warnings:
        print(_problem_line(path, problem) + " (warning)", file=sys.stderr)
    for problem in errors:
        print(_problem_line(path, problem))
    if errors or (strict and config.warnings):
        return 1
    return 0


def _socket_path(args) -> str:
    return args.socket or os.environ.get("PIRANHA_CONTROL_SOCKET") or DEFAULT_PULSE_SOCKET


SERVER_COMMANDS = ("drain", "enable", "disable")


def _call(args, command: str) -> int:
    client = ControlClient(_socket_path(args), timeout=args.timeout)
    request_args = {}
    if command in SERVER_COMMANDS:
        request_args["server"] = args.server
        if command == "drain":
            request_args["timeout"] = args.drain_timeout
    try:
        result = client.call(command, **request_args)
    except NotRunning as exc:
        print(f"pulse is {exc}", file=sys.stderr)
        return 3
    except ControlError as exc:
        print(f"pulse refused {command}: {exc}", file=sys.stderr)
        return 1
    if command == "status" or args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    elif result:
        print(result if isinstance(result, str) else json.dumps(result, sort_keys=True))
    return 0


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{value} is outside 1-86400 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="piranha-ctl", description=__doc__)
    parser.add_argument("--socket", help=f"pulse control socket (default $PIRANHA_CONTROL_SOCKET or {DEFAULT_PULSE_SOCKET})")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer (default 10)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate an lvs.cf without running anything")
    check.add_argument("path")
    check.add_argument("--strict", action="store_true", help="treat warnings (legacy keys) as errors")
    for name, text in (
        ("status", "print the node's status as JSON"),
        ("reload", "re-read lvs.cf and apply the difference"),
        ("takeover", "make this node the active director"),
        ("release", "hand the active role to the partner"),
    ):
        commands.add_parser(name, help=text)
    for name, text in (
        ("drain", "weight 0 until the server's active connections end (or --drain-timeout), then out"),
        ("enable", "let health decide again about a drained or disabled server"),
        ("disable", "take a real server out now (kept out across reloads until enabled)"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("server", help="the real server as VIRTUAL/SERVER (names from lvs.cf), e.g. web/rs1")
        if name == "drain":
            sub.add_argument("--drain-timeout", type=_seconds, default=300, metavar="SECONDS",
                             help="take it out after this long even with connections left (default 300)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-config":
        return check_config(args.path, strict=args.strict)
    return _call(args, args.command)


if __name__ == "__main__":
    sys.exit(main())
