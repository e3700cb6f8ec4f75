"""The console's settings: one reader for the app, `piranha-passwd` and the Flask CLI.

Precedence (lowest first): built-in defaults, the instance file, the environment, the `config` mapping given
to `create_app`. The instance file is a Python file of `NAME = value` lines, found at `$PIRANHA_INSTANCE_FILE`
or `<instance folder>/piranha.cfg`. Production paths (`/etc/sysconfig/ha/lvs.cf`, `/var/lib/piranha-web/`) are
just values of these settings.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

# Every setting read from the environment. The PIRANHA_* ones after the first three are passed through for
# the Apply engine (piranha_web.apply), which documents their meaning.
ENVIRONMENT_SETTINGS = (
    "PIRANHA_VAR_DIR",
    "PIRANHA_LVS_CF",
    "PIRANHA_DATABASE_URL",
    "PIRANHA_BACKUP_SSH",
    "PIRANHA_SSH_KEY",
    "PIRANHA_SSH_KNOWN_HOSTS",
    "PIRANHA_SYNC",
    "PIRANHA_REMOTE_LVS_CF",
    "PIRANHA_REMOTE_RELOAD",
    "PIRANHA_CONTROL_SOCKET",
    "PIRANHA_LVS_CF_GROUP",
    "PIRANHA_PULSE_PIDFILE",
    "PIRANHA_SSH_CONNECT_TIMEOUT",
    "PIRANHA_BACKUP_CHECK_SECONDS",
    "PIRANHA_SECRET_KEY",
    "PIRANHA_IDLE_TIMEOUT_MINUTES",
    "PIRANHA_SECURE_COOKIES",
    # status collection and operator actions (piranha_web.status.settings), /metrics (piranha_web.metrics)
    "PIRANHA_REMOTE_CTL",
    "PIRANHA_STATUS_CACHE_SECONDS",
    "PIRANHA_CONTROL_TIMEOUT",
    "PIRANHA_METRICS_TOKEN",
    "PIRANHA_METRICS_ALLOW",
)

INSTANCE_FILE_NAME = "piranha.cfg"


def _instance_file(instance_path: str) -> Path:
    explicit = os.environ.get("PIRANHA_INSTANCE_FILE")
    return Path(explicit) if explicit else Path(instance_path) / INSTANCE_FILE_NAME


def _secret_key(var_dir: Path) -> str:
    """A random key kept in the var dir (mode 0600), so sessions survive restarts and every worker agrees."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    temporary = var_dir / f".secret_key.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    try:
        os.link(temporary, path)  # atomic and never replaces: two workers starting together agree on one key
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        os.unlink(temporary)
    return key


def configure(app, overrides: dict | None = None) -> None:
    """Fill `app.config` from defaults, instance file, environment and `overrides`, then derive the rest."""
    app.config.update(PIRANHA_VAR_DIR="./var/", PIRANHA_SYNC="rsync", PIRANHA_IDLE_TIMEOUT_MINUTES=30,
                      PIRANHA_SECURE_COOKIES=False)
    instance_file = _instance_file(app.instance_path)
    if instance_file.is_file():
        app.config.from_pyfile(str(instance_file))
    for name in ENVIRONMENT_SETTINGS:
        if name in os.environ:
            app.config[name] = os.environ[name]
    app.config.update(overrides or {})

    var_dir = Path(app.config["PIRANHA_VAR_DIR"]).resolve()
    app.config["PIRANHA_VAR_DIR"] = str(var_dir)
    app.config.setdefault("PIRANHA_LVS_CF", str(var_dir / "lvs.cf"))
    app.config.setdefault("PIRANHA_DATABASE_URL", f"sqlite:///{var_dir / 'piranha.db'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["PIRANHA_DATABASE_URL"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app.config.get("PIRANHA_SECRET_KEY") or _secret_key(var_dir)

    idle = timedelta(minutes=int(app.config["PIRANHA_IDLE_TIMEOUT_MINUTES"]))
    secure = str(app.config["PIRANHA_SECURE_COOKIES"]).lower() in ("1", "true", "yes")
    app.config.update(
        PERMANENT_SESSION_LIFETIME=idle,  # the signed cookie's age is checked on every request: idle timeout
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="piranha_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which has the idle timeout
    )
