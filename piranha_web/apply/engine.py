"""The Apply engine, independent of Flask: validate → write → sync → verify → reload both directors.

    settings = ApplySettings.from_mapping(os.environ)
    result = apply_text(settings, draft_text, on_step=print)
    result.ok, result.backup_state, [s.as_dict() for s in result.steps]

Each step is a function returning a StepResult; `apply_text` runs them in order and stops only where going on
would be wrong: an invalid draft writes nothing, a failed local write touches nothing else. A failed sync leaves
the local file applied and reports the backup out of sync with the cause (see failures.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from piranha import lvscf
from piranha.lvscf import schema
from piranha_web.apply import remote
from piranha_web.apply.atomic import WriteError, write_atomically
from piranha_web.apply.failures import CHECKSUM_MISMATCH, Failure
from piranha_web.apply.local_reload import reload_local
from piranha_web.apply.settings import ApplySettings

IN_SYNC, OUT_OF_SYNC, NOT_REPLICATED = "in_sync", "out_of_sync", "not_replicated"


@dataclass
class StepResult:
    name: str
    ok: bool
    message: str
    detail: dict = field(default_factory=dict)
    duration: float = 0.0
    node: str = "primary"
    skipped: bool = False

    @property
    def state(self) -> str:
        if self.skipped:
            return "skipped"
        if self.ok and self.detail.get("not_running"):
            return "notice"
        return "ok" if self.ok else "failed"

    def as_dict(self) -> dict:
        return {**asdict(self), "state": self.state, "duration": round(self.duration, 4)}


@dataclass
class ApplyResult:
    steps: list[StepResult] = field(default_factory=list)
    text: str | None = None
    checksum: str | None = None
    serial_no: int | None = None
    backup_state: str = NOT_REPLICATED
    backup_reason: str | None = None
    backup_checksum: str | None = None

    @property
    def written(self) -> bool:
        return any(step.name == "write" and step.ok for step in self.steps)

    @property
    def ok(self) -> bool:
        return self.written and all(step.ok or step.skipped for step in self.steps)

    def step(self, name: str) -> StepResult | None:
        return next((step for step in self.steps if step.name == name), None)

    def node_results(self) -> dict:
        nodes: dict[str, dict] = {}
        for step in self.steps:
            nodes.setdefault(step.node, {})[step.name] = {"state": step.state, "message": step.message}
        return nodes


StepCallback = Callable[[StepResult], None]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _timed(name: str, node: str, work: Callable[[], tuple[bool, str, dict]]) -> StepResult:
    started = time.perf_counter()
    ok, message, detail = work()
    return StepResult(name, ok, message, detail, time.perf_counter() - started, node)


_SERIAL_LINE = re.compile(r"^[ \t]*serial_no[ \t]*=[ \t]*(\S+)[ \t]*$", re.M)


def _serial_of(text: str | None) -> int:
    """serial_no of the file being replaced, read from its one line (the whole file need not parse)."""
    match = _SERIAL_LINE.search(text or "")
    if not match:
        return 0
    try:
        return schema.keyword("global", "serial_no").convert(match.group(1)) or 0
    except ValueError:
        return 0


def validate(draft_text: str, running_text: str | None) -> tuple[StepResult, lvscf.LvsConfig | None, str | None]:
    """Parse and validate the draft; on success also render the text to write (serial_no + 1)."""
    config_and_text: list = [None, None]

    def work():
        try:
            config = lvscf.loads(draft_text)
        except lvscf.LvsConfigError as exc:
            return False, f"the draft does not parse: {exc.errors[0]}", {"problems": [str(p) for p in exc.errors]}
        problems = config.validate()
        if problems:
            noun = "problem" if len(problems) == 1 else "problems"
            return False, f"the draft has {len(problems)} {noun}: {problems[0]}", \
                {"problems": [str(p) for p in problems]}
        config.serial_no = max(_serial_of(running_text), config.serial_no or 0) + 1
        config_and_text[:] = [config, lvscf.dumps(config)]
        return True, f"valid; serial_no becomes {config.serial_no}", \
            {"warnings": [str(p) for p in config.warnings], "serial_no": config.serial_no}

    step = _timed("validate", "primary", work)
    return step, config_and_text[0], config_and_text[1]


def write_local(settings: ApplySettings, text: str) -> StepResult:
    def work():
        try:
            write_atomically(settings.lvs_cf, text, mode=0o640, group=settings.group)
        except WriteError as exc:
            return False, str(exc), {}
        return True, f"wrote {settings.lvs_cf} (mode 0640{', group ' + settings.group if settings.group else ''})", \
            {"checksum": sha256_text(text)}
    return _timed("write", "primary", work)


def sync_backup(settings: ApplySettings, config: lvscf.LvsConfig, text: str,
                link: remote.Link | None = None) -> StepResult:
    """Copy the written file to the backup and check its SHA-256 there; skipped when backup_active is off."""
    if not config.backup_active:
        return StepResult("sync", True, "redundancy is off (backup_active = 0): no backup to copy to",
                          {}, 0.0, remote.NODE, skipped=True)
    destination = settings.destination(config.backup)

    def work():
        if settings.sync == "none":
            return False, "backup: not copied - PIRANHA_SYNC is 'none'; copy lvs.cf to the backup yourself " \
                          "or set PIRANHA_SYNC to rsync or ssh", {"cause": "sync disabled"}
        if destination is None:
            return False, "backup: backup_active = 1 but lvs.cf names no backup address and PIRANHA_BACKUP_SSH " \
                          "is not set", {"cause": "no destination"}
        expected = sha256_text(text)
        timings = {}
        try:
            started = time.perf_counter()
            if link is not None:
                link.open()
                timings["connect"] = time.perf_counter() - started
            started = time.perf_counter()
            remote.push(settings, destination, settings.lvs_cf, text, link)
            timings["copy"] = time.perf_counter() - started
            started = time.perf_counter()
            actual = remote.remote_checksum(settings, destination, link)
            timings["verify"] = time.perf_counter() - started
        except remote.RemoteError as exc:
            return False, exc.failure.message, {"cause": exc.failure.cause, "destination": str(destination)}
        if actual != expected:
            failure = Failure(CHECKSUM_MISMATCH, remote.NODE, f"expected {expected[:12]}…, found {actual[:12]}…")
            return False, failure.message, {"cause": failure.cause, "checksum": actual,
                                            "destination": str(destination)}
        return True, f"copied with {settings.sync} to {destination}:{settings.remote_path}; SHA-256 verified", \
            {"checksum": actual, "destination": str(destination), **timings}
    return _timed("sync", remote.NODE, work)


def reload_primary(settings: ApplySettings) -> StepResult:
    def work():
        outcome = reload_local(settings.control_socket, settings.pulse_pidfile)
        return outcome.ok, outcome.message, {"how": outcome.how, "not_running": outcome.not_running}
    return _timed("reload", "primary", work)


def reload_backup(settings: ApplySettings, config: lvscf.LvsConfig, link: remote.Link | None = None) -> StepResult:
    destination = settings.destination(config.backup)

    def work():
        try:
            outcome = remote.remote_reload(settings, destination, link)
        except remote.RemoteError as exc:
            return False, exc.failure.message, {"cause": exc.failure.cause}
        if outcome.not_running:
            return True, f"backup: daemons not running ({outcome.output or 'pulse not running'}); pulse will " \
                         "read the new file when it starts", {"not_running": True}
        said = f": {outcome.output}" if outcome.output else ""
        return True, f"backup reloaded ({settings.remote_reload}){said}", {"not_running": False}
    return _timed("remote reload", remote.NODE, work)


def _skip(name: str, node: str, why: str) -> StepResult:
    return StepResult(name, False, why, {}, 0.0, node, skipped=True)


def replicate(settings: ApplySettings, config: lvscf.LvsConfig, text: str, result: ApplyResult,
              report: StepCallback) -> None:
    """Sync + remote reload, recording the backup's state in `result` (also used by "Retry sync")."""
    destination = settings.destination(config.backup) if config.backup_active else None
    with contextlib.ExitStack() as cleanup:
        link = None
        if destination is not None and settings.sync != "none":
            link = cleanup.enter_context(remote.Link(settings, destination))
        sync = sync_backup(settings, config, text, link)
        report(sync)
        result.steps.append(sync)
        if sync.skipped:
            result.backup_state = NOT_REPLICATED
            return
        if not sync.ok:
            result.backup_state, result.backup_reason = OUT_OF_SYNC, sync.message
            result.backup_checksum = sync.detail.get("checksum")
            result.steps.append(_skip("remote reload", remote.NODE, "not run: the backup does not have the new file"))
            report(result.steps[-1])
            return
        result.backup_state, result.backup_checksum = IN_SYNC, sync.detail["checksum"]
        reload_step = reload_backup(settings, config, link)
        report(reload_step)
        result.steps.append(reload_step)


def apply_text(settings: ApplySettings, draft_text: str, running_text: str | None = None,
               on_step: StepCallback | None = None) -> ApplyResult:
    """Run every step for `draft_text`; `running_text` is the file being replaced (for serial_no)."""
    report = on_step or (lambda step: None)
    result = ApplyResult()
    check, config, text = validate(draft_text, running_text)
    report(check)
    result.steps.append(check)
    if not check.ok:
        return result
    result.text, result.checksum, result.serial_no = text, sha256_text(text), config.serial_no
    written = write_local(settings, text)
    report(written)
    result.steps.append(written)
    if not written.ok:
        return result
    replicate(settings, config, text, result, report)
    local = reload_primary(settings)
    report(local)
    result.steps.append(local)
    return result


def resync(settings: ApplySettings, text: str, on_step: StepCallback | None = None) -> ApplyResult:
    """"Retry sync": copy the applied `text` (already on disk) to the backup again and reload it there."""
    report = on_step or (lambda step: None)
    result = ApplyResult(text=text, checksum=sha256_text(text))
    config = lvscf.loads(text)
    result.serial_no = config.serial_no
    replicate(settings, config, text, result, report)
    return result
