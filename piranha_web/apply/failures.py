"""Turn what ssh and rsync print on failure into one of a few causes an admin can act on.

ssh exits 255 for its own failures (network, authentication, host key); rsync exits 255/12 when its ssh
transport failed, 23/11 for file errors on the far side. The text is what tells the causes apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNREACHABLE = "unreachable"
AUTH_REFUSED = "authentication refused"
HOST_KEY_CHANGED = "host key changed"
HOST_KEY_UNKNOWN = "host key unknown"
PERMISSION_DENIED = "permission denied"
DISK_FULL = "disk full"
CHECKSUM_MISMATCH = "checksum mismatch"
REMOTE_COMMAND_FAILED = "remote command failed"
TIMED_OUT = "timed out"

# Order matters: the first pattern that matches names the cause (host key messages also mention
# "Host key verification failed", a refused key also says "Permission denied (publickey...").
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    (HOST_KEY_CHANGED, re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed", re.I)),
    (HOST_KEY_UNKNOWN, re.compile(r"No \S+ host key is known for|Host key verification failed", re.I)),
    (AUTH_REFUSED, re.compile(r"Permission denied \((publickey|password|keyboard|gssapi|hostbased)"
                              r"|Too many authentication failures|no mutual signature", re.I)),
    (UNREACHABLE, re.compile(r"Connection refused|No route to host|Network is unreachable|Connection timed out"
                             r"|Could not resolve hostname|Name or service not known|Operation timed out"
                             r"|Connection closed by .* port|kex_exchange_identification"
                             r"|Connection reset by peer", re.I)),
    (DISK_FULL, re.compile(r"No space left on device|Disk quota exceeded", re.I)),
    (PERMISSION_DENIED, re.compile(r"Permission denied|Read-only file system|Operation not permitted", re.I)),
)

_ADVICE = {
    UNREACHABLE: "check that the backup is up, that sshd listens on the management address and that no firewall "
                 "blocks it",
    AUTH_REFUSED: "install the console's public key (PIRANHA_SSH_KEY + .pub) in the backup's authorized_keys",
    HOST_KEY_CHANGED: "the backup presented a different host key than the pinned one: if the backup was "
                      "reinstalled, verify its new key and update PIRANHA_SSH_KNOWN_HOSTS; otherwise this may be "
                      "an impostor",
    HOST_KEY_UNKNOWN: "the backup's host key is not in PIRANHA_SSH_KNOWN_HOSTS: add it after checking its "
                      "fingerprint",
    PERMISSION_DENIED: "the ssh user may not write the remote lvs.cf or its directory",
    DISK_FULL: "free space on the backup's file system",
    CHECKSUM_MISMATCH: "the copy on the backup differs from the file written here; retry the sync",
    REMOTE_COMMAND_FAILED: "see the message from the backup",
    TIMED_OUT: "the backup did not answer in time",
}


@dataclass(frozen=True)
class Failure:
    cause: str
    node: str
    text: str

    @property
    def message(self) -> str:
        """One line for the page and the audit log: node, cause, what the tools said, what to do."""
        said = f" ({self.text})" if self.text else ""
        return f"{self.node}: {self.cause}{said} - {_ADVICE[self.cause]}"


def _relevant_line(stderr: str, pattern: re.Pattern | None) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.lstrip().startswith("@")]
    if pattern:
        for line in lines:
            if pattern.search(line):
                return line[:300]
    return lines[-1][:300] if lines else ""


def classify(node: str, returncode: int, stderr: str) -> Failure:
    """The cause of a failed ssh/rsync run, with the line of its output that shows it."""
    for cause, pattern in _PATTERNS:
        if pattern.search(stderr):
            return Failure(cause, node, _relevant_line(stderr, pattern))
    if returncode in (30, 35):  # rsync: timeout in data send/receive, waiting for daemon connection
        return Failure(TIMED_OUT, node, _relevant_line(stderr, None))
    text = _relevant_line(stderr, None) or f"exit status {returncode}"
    return Failure(REMOTE_COMMAND_FAILED, node, text)
