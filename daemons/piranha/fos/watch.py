"""The verdict rules of fos's watchers, pure so they are tested without sockets or clocks.

RemoteWatch is nanny's FOS mode (PIRANHA-REFERENCE §3.6.6), run on the inactive node against the partner:
a service that was available and fails once means the partner lost it; one that never became available
fails over after two consecutive failures. LocalWatch runs on the active node against our own services.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTNER_LOST = "lost"          # was available, now failed: exit 0 ("Exiting due to connection failure")
PARTNER_NEVER_UP = "never"     # two failures, never available: exit 1 ("... triggering failover!")
AVAILABLE = "available"        # became available: log "Remote service IP:PORT is available"


@dataclass
class RemoteWatch:
    available: bool = False
    failures: int = 0

    def observe(self, up: bool) -> str | None:
        if up:
            self.failures = 0
            if not self.available:
                self.available = True
                return AVAILABLE
            return None
        self.failures += 1
        if self.available:
            return PARTNER_LOST
        if self.failures >= 2:
            return PARTNER_NEVER_UP
        return None


@dataclass
class LocalWatch:
    """Our own service on the active node: `limit` consecutive failed checks and it is declared failed."""

    limit: int = 2
    failures: int = 0

    def observe(self, up: bool) -> bool:
        """True when the service is now considered failed."""
        self.failures = 0 if up else self.failures + 1
        return self.failures >= self.limit
