"""Value types of lvs.cf keywords: text -> typed value, value check, value -> canonical text.

Each type's ``parse(text)`` follows the C parser's rules (``strtol`` numbers, ``inet_aton`` masks, service
names for ports) and raises ``ValueError`` whose message quotes the bad text; ``check(value)`` raises the same
way for a value set in memory (the validator calls it); ``format(value)`` gives text that ``parse`` reads back
to an equal value.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import socket

from piranha.lvscf.errors import quote

_STRTOL = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+\Z")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_INTERFACE = re.compile(r"[A-Za-z0-9_.@-]+(?::[A-Za-z0-9_.@-]+)?\Z")
_UNRENDERABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def strtol(text: str) -> int:
    """An integer as C's ``strtol(text, NULL, 0)`` reads a whole token: decimal, 0x hex or 0 octal."""
    if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
        return int(text)
    if not _STRTOL.match(text):
        raise ValueError(f"integer expected, got {quote(text)}")
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    if digits[:2] in ("0x", "0X"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 8 if len(digits) > 1 else 10)


def _require(value, kinds, what: str) -> None:
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise ValueError(f"{what} expected, got {value!r}")


class ValueType:
    """Base: free text. Subclasses narrow parse/check and describe themselves in ``label`` for the docs."""

    label = "string"
    choices: tuple | None = None

    def parse(self, text: str):
        self.check(text)
        return text

    def check(self, value) -> None:
        _require(value, (str,), "a string")
        renderable_text(value)

    def format(self, value) -> str:
        return format_bare(value)


def renderable_text(value: str, quoted: bool = False) -> None:
    """Reject text that cannot be written back on one lvs.cf line and read back unchanged."""
    bad = _UNRENDERABLE.search(value)
    if bad:
        raise ValueError(f"{quote(value)} contains the control character {bad.group()!r}, "
                         "which cannot be written to lvs.cf")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{quote(value)} contains bytes that are not UTF-8 text") from None
    if quoted and '"' in value:
        raise ValueError(f"{quote(value)} contains a double quote, which cannot be written inside the "
                         "quoted value (the file format has no escape for it)")
    if not quoted and '"' in value and "'" in value and _needs_quotes(value):
        raise ValueError(f"{quote(value)} contains both quote characters and needs quoting (a blank or a "
                         "leading quote): it cannot be written")


def _needs_quotes(value: str) -> bool:
    return not value or " " in value or "\t" in value or value[0] in "\"'"


def format_bare(value: str) -> str:
    """A plain value: bare when it is one token, else in the quote character it does not contain."""
    if not _needs_quotes(value):
        return value
    return f"'{value}'" if '"' in value else f'"{value}"'


class Text(ValueType):
    """Free text; ``quoted`` values (send, expect, commands) are always written inside double quotes."""

    def __init__(self, quoted: bool = False, max_length: int | None = None, label: str = "string"):
        self.quoted, self.max_length, self.label = quoted, max_length, label

    def check(self, value) -> None:
        _require(value, (str,), "a string")
        renderable_text(value, self.quoted)
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"{quote(value[:40])}... is {len(value)} characters long; "
                             f"at most {self.max_length} are allowed")

    def format(self, value: str) -> str:
        return f'"{value}"' if self.quoted else format_bare(value)


class Path(Text):
    label = "absolute path"

    def __init__(self):
        super().__init__(label=self.label)

    def check(self, value) -> None:
        super().check(value)
        if not value.startswith("/"):
            raise ValueError(f"{quote(value)} is not an absolute path (it must start with '/')")


class Integer(ValueType):
    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum
        self.label = "integer" + _range_label(minimum, maximum)

    def parse(self, text: str) -> int:
        value = strtol(text)
        self._range(value, text)
        return value

    def check(self, value) -> None:
        _require(value, (int,), "an integer")
        self._range(value, str(value))

    def _range(self, value, text: str) -> None:
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValueError(f"{quote(text)} is out of range{_range_label(self.minimum, self.maximum)}")

    def format(self, value: int) -> str:
        return str(value)


def _range_label(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f" ({_num(minimum)}-{_num(maximum)})"
    return f" (at least {_num(minimum)})" if minimum is not None else ""


def _num(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Seconds(Integer):
    """A duration: a C integer, or a decimal fraction such as ``0.5`` (new). Stored as float."""

    def __init__(self, minimum: float, maximum: float):
        super().__init__(minimum, maximum)
        self.label = "seconds" + _range_label(minimum, maximum)

    def parse(self, text: str) -> float:
        if _DECIMAL.match(text):
            value = float(text)
        else:
            try:
                value = float(strtol(text))
            except ValueError:
                raise ValueError(f"number of seconds expected, got {quote(text)}") from None
        self._range(value, text)
        return value

    def check(self, value) -> None:
        _require(value, (int, float), "a number of seconds")
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number of seconds")
        self._range(value, _num(value))

    def format(self, value) -> str:
        return str(int(value)) if float(value).is_integer() else repr(float(value))


class Boolean(ValueType):
    """Exactly 0 or 1 (as ``strtol`` reads it); ``any_integer`` accepts every integer, non-zero = on."""

    def __init__(self, any_integer: bool = False):
        self.any_integer = any_integer
        self.label = "0 or 1" + (" (any non-zero integer means 1)" if any_integer else "")

    def parse(self, text: str) -> bool:
        try:
            value = strtol(text)
        except ValueError:
            raise ValueError(f"boolean expected (0 or 1), got {quote(text)}") from None
        if value not in (0, 1) and not self.any_integer:
            raise ValueError(f"boolean expected (0 or 1), got {quote(text)}")
        return value != 0

    def check(self, value) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"boolean expected, got {value!r}")

    def format(self, value: bool) -> str:
        return "1" if value else "0"


@functools.lru_cache(maxsize=256)
def _service_port(name: str) -> int | None:
    try:
        return socket.getservbyname(name, "tcp")
    except OSError:
        return None


class Port(Integer):
    """1-65535; with ``service_names`` also a name from the services database (``http``), looked up as tcp."""

    def __init__(self, service_names: bool = True):
        super().__init__(1, 65535)
        self.service_names = service_names
        self.label = "port (1-65535" + (" or a service name from /etc/services)" if service_names else ")")

    def parse(self, text: str) -> int:
        try:
            value = strtol(text)
        except ValueError:
            value = _service_port(text) if self.service_names else None
            if value is None:
                hint = "nor a known service name" if self.service_names else "(service names are not allowed here)"
                raise ValueError(f"{quote(text)} is not a port number (1-65535) {hint}") from None
        self._range(value, text)
        return value


def _canonical_ipv4(text: str) -> bool:
    """Fast path: a dotted quad already in canonical form (the common case, 4x faster than ipaddress)."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not (part.isascii() and part.isdigit()) or (part[0] == "0" and len(part) > 1) or int(part) > 255:
            return False
    return True


def _ip(text: str) -> str:
    if _canonical_ipv4(text):
        return text
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        family = "IPv6" if ":" in text else "IPv4"
        raise ValueError(f"{quote(text)} is not a valid {family} address") from None


def is_unspecified(address: str | None) -> bool:
    """True for a missing address and for 0.0.0.0 / :: (the C parser's "not set")."""
    return address is None or address in ("0.0.0.0", "::")


class Host(ValueType):
    """An IPv4 or IPv6 address (normalized), or, when ``hostnames`` is set, a hostname kept as written."""

    def __init__(self, hostnames: bool = True):
        self.hostnames = hostnames
        self.label = "IPv4/IPv6 address or hostname" if hostnames else "IPv4/IPv6 address"

    def parse(self, text: str) -> str:
        if ":" in text or text.replace(".", "").isdigit() or not self.hostnames:
            return _ip(text)
        labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
        if len(text) > 253 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
            raise ValueError(f"invalid host name or ip address: {quote(text)}")
        return text

    def check(self, value) -> None:
        _require(value, (str,), "an address")
        if self.parse(value) != value:
            raise ValueError(f"{quote(value)} is not written in canonical form ({self.parse(value)})")


def check_interface(text: str) -> str:
    if len(text) > 15 or not _INTERFACE.match(text):
        raise ValueError(f"{quote(text)} is not an interface name (up to 15 letters, digits, '_.@-', "
                         "optionally with an alias label such as eth0:1)")
    return text


class Interface(ValueType):
    label = "interface name"

    def check(self, value) -> None:
        _require(value, (str,), "an interface name")
        check_interface(value)


class HostDevice(ValueType):
    """Two values ``ADDRESS DEVICE`` (``address`` of a virtual server, ``nat_router``): a tuple of two str."""

    label = "IPv4/IPv6 address and interface (two values)"

    def __init__(self):
        self.host = Host(hostnames=True)

    def parse(self, text: str) -> tuple:
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(f"expected an address and an interface, e.g. '10.0.0.1 eth0:1', got {quote(text)}")
        return self.host.parse(parts[0]), check_interface(parts[1])

    def check(self, value) -> None:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"(address, device) expected, got {value!r}")
        self.host.check(value[0])
        _require(value[1], (str,), "an interface name")
        check_interface(value[1])

    def format(self, value: tuple) -> str:
        return f"{value[0]} {value[1]}"


class Netmask(ValueType):
    """A dotted IPv4 netmask; short ``inet_aton`` forms (``255.255.255``, hex) are read like the C parser."""

    label = "dotted IPv4 netmask"

    def parse(self, text: str) -> str:
        try:
            packed = socket.inet_aton(text)
        except OSError:
            raise ValueError(f"Bad subnet mask specified: {quote(text)}") from None
        if text != text.strip():
            raise ValueError(f"Bad subnet mask specified: {quote(text)}")
        value = socket.inet_ntoa(packed)
        self.check(value, text)
        return value

    def check(self, value, text: str | None = None) -> None:
        _require(value, (str,), "a netmask")
        try:
            bits = int(ipaddress.IPv4Address(value))
        except ValueError:
            raise ValueError(f"Bad subnet mask specified: {quote(value)}") from None
        inverted = ~bits & 0xFFFFFFFF
        if inverted & (inverted + 1):
            raise ValueError(f"{quote(text or value)} is not a contiguous netmask "
                             "(write it dotted, e.g. 255.255.255.0)")
        if text is None and str(ipaddress.IPv4Address(value)) != value:
            raise ValueError(f"{quote(value)} is not written in canonical dotted form")


class Choice(ValueType):
    def __init__(self, *choices: str):
        self.choices = choices
        self.label = " | ".join(choices)

    def parse(self, text: str) -> str:
        self.check(text)
        return text

    def check(self, value) -> None:
        if value not in self.choices:
            shown = quote(value) if isinstance(value, str) else repr(value)
            raise ValueError(f"{shown} is not one of: {', '.join(self.choices)}")


class Name(ValueType):
    """A block name: one token, no blanks, braces, quotes or '#' (the file format could not hold them)."""

    label = "name"

    def check(self, value) -> None:
        _require(value, (str,), "a name")
        if not value or any(c.isspace() or c in "{}\"'" for c in value) or value[0] == "#" \
                or value == "=" or not value.isprintable():
            raise ValueError(f"{quote(value)} is not a usable name (one word without blanks, braces, "
                             "quotes or a leading '#', and not '=')")

    def format(self, value: str) -> str:
        return value


class WordList(ValueType):
    """The legacy ``dirs = [ a b ]`` list: a tuple of words."""

    label = "[ word ... ]"

    def parse(self, text: str) -> tuple:
        inner = text.strip()
        if not (inner.startswith("[") and inner.endswith("]")):
            raise ValueError(f"list expected ('[ a b ... ]'), got {quote(text)}")
        return tuple(inner[1:-1].split())

    def check(self, value) -> None:
        if not isinstance(value, tuple) or not all(isinstance(w, str) and w and not any(
                c.isspace() or c in "[]\"'" for c in w) for w in value):
            raise ValueError(f"a tuple of words without blanks, brackets or quotes expected, got {value!r}")

    def format(self, value: tuple) -> str:
        return "[ " + " ".join(value) + " ]" if value else "[ ]"
