"""The health state machine: first good check, failures (fall) and reentry (rise)."""

import pytest

from piranha.nanny.health import Health, reentry_checks


def feed(health, verdicts):
    return [health.step(v) for v in verdicts]


def test_first_good_check_is_up_at_once_even_with_a_long_reentry():
    health = Health(failures=1, reentry=180, interval=10)
    assert health.up is None
    assert feed(health, [True, True]) == [True, None]
    assert health.up is True


def test_one_failure_takes_it_down_by_default_and_reentry_counts_passes():
    health = Health(failures=1, reentry=30, interval=10)      # 3 passes to return
    assert feed(health, [True, False, True, True, True, True]) == [True, False, None, None, True, None]


def test_a_failure_restarts_the_reentry_countdown():
    health = Health(failures=1, reentry=20, interval=10)
    assert feed(health, [True, False, True, False, True, True]) == [True, False, None, None, None, True]


def test_failures_is_consecutive():
    health = Health(failures=3, reentry=0, interval=1)
    assert feed(health, [True, False, False, True, False, False, False]) == \
        [True, None, None, None, None, None, False]


def test_unknown_server_failing_goes_down_then_needs_reentry():
    health = Health(failures=2, reentry=20, interval=10)
    assert feed(health, [False, False, True, True]) == [None, False, None, True]


def test_configure_keeps_state():
    health = Health(failures=1, reentry=0, interval=1)
    feed(health, [True])
    health.configure(failures=2, reentry=50, interval=10)
    assert health.up is True
    assert feed(health, [False, False]) == [None, False]
    assert health.threshold == 5


@pytest.mark.parametrize("reentry, interval, checks", [
    (180, 10, 18), (15, 6, 2), (0, 10, 1), (5, 10, 1), (0.3, 0.1, 3), (1, 0.05, 20),
])
def test_reentry_checks(reentry, interval, checks):
    assert reentry_checks(reentry, interval) == checks
