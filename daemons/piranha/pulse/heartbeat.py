"""Heartbeat datagrams: Piranha's 4-byte magic, and the authenticated format used when a key is configured.

Legacy (no key): one unsigned int in host byte order (PIRANHA-REFERENCE §3.3), spoken so that a node can
run beside an unconverted Piranha pulse during migration.

Authenticated (``heartbeat_key_file``)::

    "PIRH" | version u8 | mode u8 | state u8 | id length u8 | sequence u64 | sender time µs u64 | node id | HMAC-SHA256

all big-endian; the HMAC covers every byte before it. A receiver drops (and counts) packets whose MAC does not
verify or that name another node (forged), whose timestamp is further than MAX_CLOCK_SKEW from its own clock
(stale), or whose sequence number it has already accepted or that is older than the replay window (replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import struct
import sys
import time
from collections import Counter

from piranha.pulse.state import PeerState

LEGACY_MAGIC = {
    ("lvs", PeerState.RUNNING): 0xBDADDBDA,
    ("lvs", PeerState.STOPPED): 0xADBDDABD,
    ("fos", PeerState.RUNNING): 0xBEEFBABE,
    ("fos", PeerState.STOPPED): 0xDEADBEEF,
    # Piranha knew STOPME only in FOS mode; we also send it for an operator takeover in LVS mode.
    ("fos", PeerState.STOPME): 0xDEADDADA,
    ("lvs", PeerState.STOPME): 0xDEADDADA,
}
_HOLD_MAGICS = {0xDEAFBABE, 0xDEAFDADA}  # defined by Piranha, never acted on

AUTH_MAGIC = b"PIRH"
AUTH_VERSION = 1
_HEADER = struct.Struct(">4sBBBBQQ")
_MAC_LEN = 32
_MODES = {"lvs": 0, "fos": 1}
_STATES = {PeerState.RUNNING: 0, PeerState.STOPPED: 1, PeerState.STOPME: 2}
_STATE_BY_CODE = {code: state for state, code in _STATES.items()}
MAX_CLOCK_SKEW = 30.0    # seconds; directors are expected to run NTP
REPLAY_WINDOW = 64       # out-of-order sequence numbers still accepted (public and private paths race)
MIN_KEY_BYTES = 16

COUNTER_NAMES = ("accepted", "forged", "replayed", "stale", "malformed", "unauthenticated", "incompatible",
                 "unexpected_source")


class KeyFileError(ValueError):
    pass


def read_key_file(path: str) -> bytes:
    """The shared secret: the file's bytes without surrounding whitespace; must not be readable by others."""
    try:
        info = os.stat(path)
        with open(path, "rb") as handle:
            key = handle.read().strip()
    except OSError as exc:
        raise KeyFileError(f"heartbeat key file {path!r}: {exc.strerror or exc}") from None
    if info.st_mode & (stat.S_IROTH | stat.S_IWOTH):
        raise KeyFileError(f"heartbeat key file {path!r} is accessible by others (mode "
                           f"{stat.S_IMODE(info.st_mode):04o}); chmod 600 it")
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(f"heartbeat key file {path!r} holds {len(key)} bytes; at least {MIN_KEY_BYTES} needed")
    return key


class ReplayWindow:
    """Accepts each sequence number once, tolerating reordering within REPLAY_WINDOW."""

    def __init__(self) -> None:
        self.highest: int | None = None
        self.seen: set[int] = set()

    def check_and_add(self, seq: int) -> bool:
        if self.highest is not None:
            if seq <= self.highest - REPLAY_WINDOW or seq in self.seen:
                return False
        self.seen.add(seq)
        if self.highest is None or seq > self.highest:
            self.highest = seq
            self.seen = {s for s in self.seen if s > seq - REPLAY_WINDOW}
        return True


class HeartbeatCodec:
    """Encodes our heartbeats and decodes the partner's, counting every packet it drops and why."""

    def __init__(self, mode: str, node_id: str, partner_id: str, key: bytes | None = None,
                 clock=time.time) -> None:
        if mode not in _MODES:
            raise ValueError(f"heartbeat mode must be 'lvs' or 'fos', not {mode!r}")
        self.mode = mode
        self.node_id = node_id.encode()
        self.partner_id = partner_id.encode()
        if len(self.node_id) > 255 or len(self.partner_id) > 255:
            raise ValueError("a heartbeat node id is at most 255 bytes")
        self.key = key
        self.clock = clock
        self.counters: Counter[str] = Counter({name: 0 for name in COUNTER_NAMES})
        self._last_seq = 0
        self._window = ReplayWindow()

    @property
    def authenticated(self) -> bool:
        return self.key is not None

    def encode(self, state: PeerState) -> bytes:
        if self.key is None:
            return struct.pack("=I", LEGACY_MAGIC[(self.mode, state)])
        now_us = int(self.clock() * 1_000_000)
        # Time-based, so a restarted sender continues above what the receiver has already seen.
        self._last_seq = max(self._last_seq + 1, now_us)
        body = _HEADER.pack(AUTH_MAGIC, AUTH_VERSION, _MODES[self.mode], _STATES[state], len(self.node_id),
                            self._last_seq, now_us) + self.node_id
        return body + hmac.new(self.key, body, hashlib.sha256).digest()

    def decode(self, data: bytes) -> PeerState | None:
        """The partner's state, or None when the packet is dropped (and counted)."""
        state = self._decode_auth(data) if self.key is not None else self._decode_legacy(data)
        if state is not None:
            self.counters["accepted"] += 1
        return state

    def count(self, reason: str) -> None:
        self.counters[reason] += 1

    def _decode_legacy(self, data: bytes) -> PeerState | None:
        if data.startswith(AUTH_MAGIC):
            self.count("incompatible")   # the partner has a key and we do not
            return None
        if len(data) != 4:
            self.count("malformed")
            return None
        native = struct.unpack("=I", data)[0]
        swapped = struct.unpack("<I" if sys.byteorder == "big" else ">I", data)[0]
        for magic in (native, swapped):
            for (mode, state), known in LEGACY_MAGIC.items():
                if known == magic and mode == self.mode:
                    return state
        known_any = set(LEGACY_MAGIC.values()) | _HOLD_MAGICS
        self.count("incompatible" if native in known_any or swapped in known_any else "malformed")
        return None

    def _decode_auth(self, data: bytes) -> PeerState | None:
        if len(data) == 4:
            self.count("unauthenticated")
            return None
        if len(data) < _HEADER.size + _MAC_LEN or not data.startswith(AUTH_MAGIC):
            self.count("malformed")
            return None
        magic, version, mode, state_code, id_len, seq, sent_us = _HEADER.unpack_from(data)
        if version != AUTH_VERSION or len(data) != _HEADER.size + id_len + _MAC_LEN:
            self.count("malformed")
            return None
        body, mac = data[:-_MAC_LEN], data[-_MAC_LEN:]
        if not hmac.compare_digest(mac, hmac.new(self.key, body, hashlib.sha256).digest()):
            self.count("forged")
            return None
        node = body[_HEADER.size:]
        if node != self.partner_id:
            self.count("forged")     # a valid MAC from a node that is not our partner (e.g. our own, reflected)
            return None
        if mode != _MODES[self.mode] or state_code not in _STATE_BY_CODE:
            self.count("incompatible")
            return None
        if abs(self.clock() - sent_us / 1_000_000) > MAX_CLOCK_SKEW:
            self.count("stale")
            return None
        if not self._window.check_and_add(seq):
            self.count("replayed")
            return None
        return _STATE_BY_CODE[state_code]
