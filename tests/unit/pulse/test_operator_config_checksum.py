"""pulse reports the SHA-256 of the lvs.cf it runs, so the console can tell when the directors differ."""

import hashlib

from piranha.pulse.settings import file_checksum, load_config, settings_from_config
from tests.unit.pulse.test_settings import BASE


def test_settings_carry_the_checksum_of_the_file_read(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_text(BASE.format(service="lvs", backup_active=1, extra=""))
    settings = settings_from_config(str(path), load_config(str(path)), {"10.213.0.1"})
    assert settings.checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unreadable_file_has_no_checksum(tmp_path):
    assert file_checksum(str(tmp_path / "missing.cf")) is None
