"""Piranha's escapes and the expect rules."""

import pytest

from piranha.nanny.probes import Expect, unescape


@pytest.mark.parametrize("raw, text", [
    (r"GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"),
    (r"a\tb", "a\tb"),
    (r"back\\slash", "back\\slash"),
    (r"\'q\"", "'q\""),
    (r"\d+ stays", r"\d+ stays"),
    ("trailing\\", "trailing\\"),
    ("plain", "plain"),
])
def test_unescape(raw, text):
    assert unescape(raw) == text


@pytest.mark.parametrize("expect, regex, reply, complete, matches", [
    ("HTTP", False, b"HTTP/1.1 200", True, True),
    ("HTTP", False, b"HT", False, False),
    ("HTTP", False, b"SSH-2.0", True, False),
    ("*", False, b"", False, False),
    ("*", False, b"x", True, True),
    (r"200 OK", True, b"HTTP/1.1 200 OK", True, True),
    (r"^200", True, b"HTTP/1.1 200 OK", False, False),
    (r"\r\n$", True, b"line\r\n", True, True),
])
def test_expect(expect, regex, reply, complete, matches):
    rule = Expect(expect, regex)
    assert rule.complete(reply) is complete
    assert rule.matches(reply) is matches
