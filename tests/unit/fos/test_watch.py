"""fos's watcher rules (nanny's FOS mode and the local service watch)."""

from piranha.fos.watch import AVAILABLE, PARTNER_LOST, PARTNER_NEVER_UP, LocalWatch, RemoteWatch


def test_partner_service_that_was_available_fails_on_the_first_failure():
    watch = RemoteWatch()
    assert [watch.observe(up) for up in (True, True, False)] == [AVAILABLE, None, PARTNER_LOST]


def test_partner_service_never_available_fails_after_two_failures():
    watch = RemoteWatch()
    assert [watch.observe(up) for up in (False, False)] == [None, PARTNER_NEVER_UP]


def test_a_late_partner_service_is_announced_once():
    watch = RemoteWatch()
    assert [watch.observe(up) for up in (False, True, True)] == [None, AVAILABLE, None]


def test_local_service_needs_consecutive_failures():
    watch = LocalWatch(limit=2)
    assert [watch.observe(up) for up in (False, True, False, False)] == [False, False, False, True]
