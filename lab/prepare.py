"""Host side, before booting: a fresh var/lab/ with both directors' lvs.cf, the lab's ssh keys and sshd
configuration for dir2, and the console's database with its first admin (init-console)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from piranha import lvscf

from lab import CONFIGURED_SERVERS, DIRECTORS, NAT_ROUTER, REAL_SERVERS, SERVICE_PORT, VIP
from lab.paths import REPO, VENV_BIN, LabPaths, console_environment

SSHD_CONFIG = """# {director}'s sshd in the lab (lab key only). The console on dir1 copies lvs.cf to dir2 and reloads its pulse.
ListenAddress {address}
HostKey {ssh}/host_ed25519_key
PidFile /run/piranha-lab/{director}/sshd.pid
AuthorizedKeysFile {ssh}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
# Commands run inside UML, where glibc and OpenSSL must stay off AVX (see lab/uml-init.sh).
SetEnv GLIBC_TUNABLES={tunables} OPENSSL_ia32cap={openssl_ia32cap}
"""
PASSWORD_LINE = re.compile(r"created the console user 'admin' with the password\s*\n\s*(\S+)")


def render_lvs_cf(servers: tuple[str, ...] = CONFIGURED_SERVERS) -> str:
    """The lab's first lvs.cf, validated and in the console's canonical form (so its first diff is the edit)."""
    template = (REPO / "lab" / "lvs.cf.template").read_text()
    blocks = "".join(f"     server {name} {{\n         address = {REAL_SERVERS[name]}\n         active = 1\n"
                     f"         weight = 1\n     }}\n" for name in servers)
    config = lvscf.loads(template.format(dir1_public=DIRECTORS["dir1"][0], dir2_public=DIRECTORS["dir2"][0],
                                         nat_router=NAT_ROUTER, vip=VIP, port=SERVICE_PORT, servers=blocks))
    problems = config.validate()
    if problems:
        raise RuntimeError(f"lab/lvs.cf.template does not validate: {'; '.join(map(str, problems))}")
    return lvscf.dumps(config)


def prepare_state(paths: LabPaths) -> None:
    """Start from nothing: a previous lab's database, keys and logs are removed (the start lock stays)."""
    from lab.umlkernel import OPENSSL_IA32CAP, TUNABLES

    for entry in paths.root.iterdir():
        if entry.name != ".lock":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for folder in (paths.logs, paths.console, paths.ssh, *(paths.director(d) for d in DIRECTORS)):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.ssh, 0o700)
    text = render_lvs_cf()
    for director in DIRECTORS:
        paths.lvs_cf(director).write_text(text)
    _keygen(paths.ssh / "id_ed25519", "piranha-lab console on dir1")
    _keygen(paths.ssh / "host_ed25519_key", "piranha-lab directors' sshd")
    shutil.copyfile(paths.ssh / "id_ed25519.pub", paths.ssh / "authorized_keys")
    host_key = (paths.ssh / "host_ed25519_key.pub").read_text().split()
    (paths.ssh / "known_hosts").write_text("".join(f"{public} {host_key[0]} {host_key[1]}\n"
                                                   for public, _ in DIRECTORS.values()))
    for director, (public, _) in DIRECTORS.items():
        (paths.ssh / f"sshd_config-{director}").write_text(SSHD_CONFIG.format(
            director=director, address=public, ssh=paths.ssh, tunables=TUNABLES, openssl_ia32cap=OPENSSL_IA32CAP))


def _keygen(path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)


def console_init(paths: LabPaths) -> str:
    """Run `flask --app lab.wsgi init-console` for the lab; return the admin's one-time password."""
    env = {**os.environ, **console_environment(paths), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([str(VENV_BIN / "flask"), "--app", "lab.wsgi", "init-console"], cwd=REPO, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    (paths.logs / "init-console.log").write_text(proc.stdout + proc.stderr)
    match = PASSWORD_LINE.search(proc.stdout)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"init-console failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
    return match.group(1)
