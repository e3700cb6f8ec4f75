"""Crash safety of the lvs.cf writer: SIGKILL a writer at random points, the file is always old or new.

A forked writer process replaces the file in a loop (old → new → old …) with write_atomically; the test kills it
after a random delay, then reads the file. 500 kills, bounded to about 30 s. The texts are large enough that
many kills land in the middle of a write (the test checks that some did, so it cannot pass vacuously).
"""

import os
import random
import signal
import time

import pytest

from piranha_web.apply.atomic import write_atomically

ITERATIONS = 500


def _start_writer(target, texts) -> int:
    """Fork a writer that replaces `target` with texts[1], texts[0], texts[1]... until it is killed.

    fork (not exec) keeps each of the 500 rounds cheap; the child runs the real write_atomically.
    """
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer: never returns into pytest
        try:
            os.close(ready_read)
            os.write(ready_write, b"r")
            i = 1
            while True:
                write_atomically(target, texts[i % 2], mode=0o640)
                i += 1
        finally:
            os._exit(1)
    os.close(ready_write)
    assert os.read(ready_read, 1) == b"r"
    os.close(ready_read)
    return pid


def _text(tag: str) -> str:
    lines = [f"serial_no = {1 if tag == 'old' else 2}"]
    lines += [f"# {tag} line {n:06d} " + tag * 20 for n in range(4000)]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigkill_at_random_points_leaves_old_or_new_text(tmp_path):
    old, new = _text("old"), _text("new")
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    work = tmp_path / "etc"
    work.mkdir()
    target = work / "lvs.cf"
    rng = random.Random(4)
    seen = {"old": 0, "new": 0}
    interrupted_writes = 0
    started = time.monotonic()
    for _ in range(ITERATIONS):
        write_atomically(target, old)
        pid = _start_writer(target, (old, new))
        try:
            time.sleep(rng.uniform(0, 0.006))
        finally:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        content = target.read_text()
        assert content in (old, new), f"lvs.cf holds neither text ({len(content)} bytes)"
        seen["old" if content == old else "new"] += 1
        leftovers = [p for p in work.iterdir() if p != target]
        interrupted_writes += bool(leftovers)
        for path in leftovers:
            path.unlink()
    elapsed = time.monotonic() - started
    assert target.stat().st_mode & 0o777 == 0o640
    # The kills must have hit both outcomes and the middle of writes, or the test proved nothing.
    assert seen["old"] > 0 and seen["new"] > 0, seen
    assert interrupted_writes > 0, "no kill landed during a write"
    assert elapsed < 90, f"crash test took {elapsed:.1f} s"
