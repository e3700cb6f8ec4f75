"""Reading lvs.cf for lvsd: parse + validate, or a refusal that carries the validator's messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


class ConfigRefused(Exception):
    """lvs.cf cannot be used; `.problems` are "PATH:LINE: message" lines for the log and the control reply."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path} refused: " + "; ".join(problems))


@dataclass(frozen=True)
class LoadedConfig:
    config: object          # piranha.lvscf.LvsConfig
    path: str
    checksum: str           # sha256 of the file's bytes

    @property
    def serial(self) -> int:
        return self.config.serial_no


def read_config(path: str) -> LoadedConfig:
    """Parse and validate `path`; raise ConfigRefused with every problem found."""
    from piranha import lvscf

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigRefused(path, [f"{path}: {exc.strerror or exc}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigRefused(path, [f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    try:
        config = lvscf.loads(text)
    except lvscf.LvsConfigError as exc:
        raise ConfigRefused(path, [_located(path, p) for p in exc.errors]) from None
    problems = config.validate()
    if problems:
        raise ConfigRefused(path, [_located(path, p) for p in problems])
    return LoadedConfig(config, path, hashlib.sha256(data).hexdigest())


def _located(path: str, problem) -> str:
    return f"{path}:{problem}" if problem.line is not None else f"{path}: {problem}"
