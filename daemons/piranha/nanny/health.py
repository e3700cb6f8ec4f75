"""One real server's health as a state machine fed one check verdict at a time (no clock, no I/O).

Piranha's rules, with a fall count added: a server starts unknown and goes up on its first good check; once a
check has failed, it must pass ``reentry / interval`` checks in a row (at least one) before it is up again;
``failures`` consecutive failed checks (Piranha: always 1) take it down.
"""

from __future__ import annotations


def reentry_checks(reentry: float, interval: float) -> int:
    """Consecutive good checks needed after a failure (Piranha: reentry / interval, integer division)."""
    return max(1, int(reentry / interval + 1e-9))


class Health:
    __slots__ = ("up", "failures", "threshold", "fail_run", "pass_run")

    def __init__(self, failures: int = 1, reentry: float = 180.0, interval: float = 10.0):
        self.up: bool | None = None          # None = not known yet
        self.failures = failures
        self.threshold = reentry_checks(reentry, interval)
        self.fail_run = 0
        self.pass_run = self.threshold       # so the very first good check brings the server up at once

    def configure(self, failures: int, reentry: float, interval: float) -> None:
        """New thresholds from a new plan; the state and the runs so far are kept."""
        self.failures = failures
        self.threshold = reentry_checks(reentry, interval)

    def step(self, ok: bool) -> bool | None:
        """Feed one verdict; return the new state (True up / False down) on a transition, else None."""
        if ok:
            self.fail_run = 0
            self.pass_run += 1
            if self.up is not True and self.pass_run >= self.threshold:
                self.up = True
                return True
            return None
        self.pass_run = 0
        self.fail_run += 1
        if self.up is not False and self.fail_run >= self.failures:
            self.up = False
            return False
        return None
