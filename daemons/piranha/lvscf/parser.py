"""Read lvs.cf text in the dialect of Piranha's C parser (reference §1.1), reporting every error it can find.

Lines end in LF, CRLF or CR; ``#`` starts a comment only as the first non-blank character; tokens are
separated by blanks, so ``=`` needs blanks around it; a token starting with ``"`` or ``'`` runs to the same
quote (no escapes). ``virtual NAME {`` / ``failover NAME {`` open blocks at top level, ``server NAME {`` inside
a virtual block, a lone ``}`` closes. The last value of a repeated key wins (with a warning).
"""

from __future__ import annotations

import difflib

from piranha.lvscf import schema
from piranha.lvscf.converters import Text
from piranha.lvscf.errors import LvsConfigError, Problem, quote
from piranha.lvscf.model import FailoverService, LvsConfig, RealServer, VirtualServer

_OPENERS = {"global": ("virtual", "failover"), "virtual": ("server",), "failover": (), "server": ()}
_CLASSES = {"virtual": VirtualServer, "failover": FailoverService, "server": RealServer}


class _QuoteError(ValueError):
    pass


def split_lines(text: str) -> list[str]:
    """Physical lines; LF, CRLF and CR (even mixed) all end a line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def tokenize(line: str) -> list[str]:
    """Blank-separated tokens of one line, quotes removed from quoted tokens."""
    if '"' not in line and "'" not in line:
        if line.isascii():
            return line.split()
        return [t for t in line.replace("\t", " ").split(" ") if t]
    tokens, i, end = [], 0, len(line)
    while i < end:
        char = line[i]
        if char in " \t":
            i += 1
        elif char in "\"'":
            close = line.find(char, i + 1)
            if close < 0:
                raise _QuoteError(f"quotation mismatch: {quote(line[i:i + 40])} has no closing {char}")
            tokens.append(line[i + 1:close])
            i = close + 1
        else:
            j = i
            while j < end and line[j] not in " \t":
                j += 1
            tokens.append(line[i:j])
            i = j
    return tokens


class _Block:
    __slots__ = ("kind", "obj", "line", "table", "ignored", "path")

    def __init__(self, kind, obj, line, path):
        self.kind, self.obj, self.line, self.path = kind, obj, line, path
        self.table = schema.lookup(kind)
        self.ignored = _IGNORED[kind]


def _ignored(kind: str) -> frozenset:
    """Keys the C parser took in this block (virtual and failover share its parser) that do nothing there."""
    if kind == "virtual":
        return frozenset(set(schema.lookup("failover")) - set(schema.lookup("virtual")))
    if kind == "failover":
        return frozenset(set(schema.lookup("virtual")) - set(schema.lookup("failover")))
    return frozenset()


_IGNORED = {kind: _ignored(kind) for kind in schema.BLOCKS}


class Parser:
    def __init__(self):
        self.config = LvsConfig()
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.stack = [_Block("global", self.config, None, ())]
        self.pending = None  # a block opener that lacked its "{", in case "{" follows on its own line

    def error(self, line, message, keyword=None):
        self.errors.append(Problem(line, message, keyword, self.stack[-1].path))

    def warn(self, line, message, keyword=None):
        self.warnings.append(Problem(line, message, keyword, self.stack[-1].path))

    def parse(self, text: str) -> LvsConfig:
        if not text.strip():
            raise LvsConfigError([Problem(None, "empty configuration: the file has no content")])
        statement = self.statement
        for lineno, raw in enumerate(split_lines(text), 1):
            line = raw.strip(" \t")
            if not line or line[0] == "#":
                continue
            try:
                tokens = tokenize(line)
            except _QuoteError as exc:
                self.error(lineno, str(exc))
                continue
            if len(tokens) > 2 and tokens[1] == "=":
                statement(tokens, lineno)
                self.pending = None
            else:
                self.structure(tokens, lineno)
        for block in reversed(self.stack[1:]):
            self.errors.append(Problem(block.line, f"{block.kind} {quote(block.obj.name)} is never closed "
                                                   "(missing '}')", None, block.path))
        if self.errors:
            raise LvsConfigError(sorted(self.errors, key=lambda p: p.line or 0))
        self.config.warnings = self.warnings
        return self.config

    def statement(self, tokens: list[str], lineno: int) -> None:
        block = self.stack[-1]
        key = tokens[0]
        kw = block.table.get(key)
        if kw is None:
            if key in block.ignored:
                self.warn(lineno, f"{key}: has no effect in a {block.kind} block; ignored, and dropped when "
                                  "the file is written again", key)
            else:
                self.unknown(key, lineno)
            return
        if kw.legacy:
            self.warn(lineno, f"{key}: ignored: Piranha's GUI wrote this key but its daemons rejected it; it is "
                              "dropped when the file is written again", key)
            return
        values = tokens[2:]
        if kw.arity is not None and len(values) != kw.arity:
            self.arity(kw, values, lineno)
            return
        text = values[0] if len(values) == 1 else " ".join(values)
        try:
            value = kw.type.parse(text)
        except ValueError as exc:
            self.error(lineno, f"{key}: {exc}", key)
            return
        obj = block.obj
        if kw.arity == 2:
            setattr(obj, kw.attrs[0], value[0])
            setattr(obj, kw.attrs[1], value[1])
        else:
            setattr(obj, key, value)
        if key in obj.present:
            self.warn(lineno, f"{key}: set again (first on line {obj.lines[key]}); the last value wins", key)
        obj.present.add(key)
        obj.lines[key] = lineno
        if not kw.quoted:
            obj.spelling[key] = text

    def arity(self, kw, values, lineno) -> None:
        key = kw.name
        if len(values) < (kw.arity or 1):
            need = "an address and an interface, e.g. '10.0.0.1 eth0:1'" if kw.arity == 2 else "a value"
            self.error(lineno, f"{key}: missing arguments: {key} needs {need}", key)
            return
        extra = " ".join(values[kw.arity:])
        hint = " (comments must be on a line of their own)" if extra.startswith("#") else \
            " (quote a value that contains blanks)" if isinstance(kw.type, Text) else ""
        self.error(lineno, f"{key}: unexpected arguments {quote(extra)}{hint}", key)

    def unknown(self, key: str, lineno: int) -> None:
        block = self.stack[-1]
        homes = [kind for kind in schema.BLOCKS if kind != block.kind and key in schema.lookup(kind)]
        if homes:
            hint = f" (it belongs in a {' or '.join(homes)} block"
            hint += "; is a '}' missing above?)" if block.kind != "global" and "global" in homes else ")"
        else:
            close = difflib.get_close_matches(key, list(block.table), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.error(lineno, f"unknown command {quote(key)} in a {block.kind} block{hint}")

    def structure(self, tokens: list[str], lineno: int) -> None:
        """Lines that are not ``KEY = VALUE``: block openers, ``}``, and malformed statements."""
        first, count = tokens[0], len(tokens)
        block = self.stack[-1]
        if first == "}":
            if len(self.stack) == 1:
                self.error(lineno, "unmatched '}' at top level")
            else:
                self.stack.pop()
            if count > 1:
                self.error(lineno, f"unexpected arguments after '}}': {quote(' '.join(tokens[1:]))}")
            return
        if first == "{" and count == 1:
            if self.pending:
                self.open(*self.pending)
            else:
                self.error(lineno, "'{' on its own line: write the block opener as 'virtual NAME {'")
            self.pending = None
            return
        self.pending = None
        if first in ("virtual", "failover", "server"):
            self.opener(tokens, lineno)
        elif count >= 2 and tokens[1] == "=":
            if first in block.table:
                self.arity(block.table[first], [], lineno)
            else:
                self.unknown(first, lineno)
        elif "=" in first and first.split("=", 1)[0] in block.table:
            name = first.split("=", 1)[0]
            self.error(lineno, f"{name}: blanks are required around '=' (write '{name} = ...')", name)
        elif first in block.table:
            self.error(lineno, f"{first}: equal (=) expected after command", first)
        else:
            self.unknown(first, lineno)

    def opener(self, tokens: list[str], lineno: int) -> None:
        kind, count = tokens[0], len(tokens)
        name = " ".join(tokens[1:-1]) if tokens[-1] == "{" else " ".join(tokens[1:])
        if count == 2 and tokens[1] != "{":
            self.error(lineno, f"{kind} {quote(name)}: the opening '{{' must end this line ('{kind} NAME {{')")
            self.pending = (kind, name, lineno)
            return
        if tokens[-1] != "{" or count != 3:
            self.error(lineno, f"a block opens with '{kind} NAME {{' on one line, got {quote(' '.join(tokens))}")
            if tokens[-1] != "{":
                return
        self.open(kind, name or "?", lineno)

    def open(self, kind: str, name: str, lineno: int) -> None:
        current = self.stack[-1]
        if kind not in _OPENERS[current.kind]:
            if kind == "server":
                self.error(lineno, f"server {quote(name)}: real servers belong inside a virtual block")
            else:
                self.error(lineno, f"{current.kind} {quote(current.obj.name)} (line {current.line}) is not "
                                   f"closed before {kind} {quote(name)} (missing '}}')")
                del self.stack[1:]
        obj = _CLASSES[kind](name=name, line=lineno)
        parent = self.stack[-1]
        if kind == "server":
            if isinstance(parent.obj, VirtualServer):
                parent.obj.servers.append(obj)
            path = parent.path + ("server", name)
        else:
            getattr(self.config, "virtual_servers" if kind == "virtual" else "failover_services").append(obj)
            path = (kind, name)
        self.stack.append(_Block(kind, obj, lineno, path))


def loads(text: str) -> LvsConfig:
    """Parse lvs.cf text; raise LvsConfigError listing every problem when it does not parse."""
    return Parser().parse(text)


def load(path) -> LvsConfig:
    """Parse the lvs.cf at ``path`` (UTF-8; other bytes are kept so that they can be reported)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return loads(data.decode("utf-8", "surrogateescape"))
