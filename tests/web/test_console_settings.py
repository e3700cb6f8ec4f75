"""Settings come from defaults, the instance file, the environment and create_app's mapping, in that order;
and the sample lvs.cf that first-run set-up installs is valid, documentation-range and non-redundant."""

import ipaddress
from pathlib import Path

from piranha import lvscf
from piranha_web import create_app
from piranha_web.cli import SAMPLE_LVS_CF


def test_defaults_derive_from_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("PIRANHA_VAR_DIR", "PIRANHA_LVS_CF", "PIRANHA_DATABASE_URL", "PIRANHA_INSTANCE_FILE"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    var_dir = tmp_path / "var"
    assert app.config["PIRANHA_VAR_DIR"] == str(var_dir)
    assert app.config["PIRANHA_LVS_CF"] == str(var_dir / "lvs.cf")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{var_dir / 'piranha.db'}"
    assert (var_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # kept across starts


def test_environment_beats_instance_file_and_mapping_beats_both(tmp_path, monkeypatch):
    instance = tmp_path / "piranha.cfg"
    instance.write_text(f"PIRANHA_VAR_DIR = {str(tmp_path / 'from-file')!r}\n"
                        f"PIRANHA_LVS_CF = '/etc/sysconfig/ha/lvs.cf'\nPIRANHA_BACKUP_SSH = 'root@backup'\n")
    monkeypatch.setenv("PIRANHA_INSTANCE_FILE", str(instance))
    monkeypatch.setenv("PIRANHA_VAR_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("PIRANHA_SYNC", "rsync")
    app = create_app({"PIRANHA_SYNC": "ssh"})
    assert app.config["PIRANHA_VAR_DIR"] == str(tmp_path / "from-env")
    assert app.config["PIRANHA_LVS_CF"] == "/etc/sysconfig/ha/lvs.cf"
    assert app.config["PIRANHA_BACKUP_SSH"] == "root@backup"
    assert app.config["PIRANHA_SYNC"] == "ssh"
    assert app.config["PIRANHA_DATABASE_URL"] == f"sqlite:///{tmp_path / 'from-env' / 'piranha.db'}"


def test_sample_configuration():
    config = lvscf.loads(Path(SAMPLE_LVS_CF).read_text())
    assert config.validate() == []
    assert config.backup_active is False and config.service == "lvs"
    assert len(config.virtual_servers) == 2 and all(len(v.servers) >= 2 for v in config.virtual_servers)
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    addresses = [config.primary, config.backup, config.nat_router]
    for virtual in config.virtual_servers:
        addresses.append(virtual.address)
        addresses.extend(server.address for server in virtual.servers)
    for address in addresses:
        assert any(ipaddress.ip_address(address) in network for network in documentation), address
    assert lvscf.dumps(config) == Path(SAMPLE_LVS_CF).read_text()  # written in the canonical layout
