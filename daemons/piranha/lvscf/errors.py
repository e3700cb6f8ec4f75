"""Problems found in an lvs.cf: parse errors, validation errors and warnings share one shape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding, located by line (None for a model built in memory) and by block path and keyword.

    ``block`` is ``()`` for the global section, ``("virtual", NAME)``, ``("virtual", NAME, "server", RNAME)``
    or ``("failover", NAME)``; ``keyword`` is the lvs.cf key the message is about, when there is one.
    ``message`` starts with the keyword ("port: ...") so it reads well on its own; ``detail`` is the message
    without that prefix, for a form that shows it beside the keyword's field.
    """

    line: int | None
    message: str
    keyword: str | None = None
    block: tuple = ()

    def __str__(self) -> str:
        return f"{self.line}: {self.message}" if self.line is not None else self.message

    @property
    def detail(self) -> str:
        prefix = f"{self.keyword}: "
        if self.keyword and self.message.startswith(prefix):
            return self.message[len(prefix):]
        return self.message


class LvsConfigError(ValueError):
    """The text is not an lvs.cf: ``.errors`` lists every problem the parser found, in line order."""

    def __init__(self, errors: list[Problem]):
        self.errors = list(errors)
        shown = "; ".join(str(p) for p in self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        super().__init__(f"{len(self.errors)} error(s) in lvs.cf: {shown}{more}")


def quote(text: str) -> str:
    """The value as it appears in a message: in single quotes, control characters made visible."""
    if text.isprintable():
        return f"'{text}'"
    return repr(text)
