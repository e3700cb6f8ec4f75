"""`flask --app wsgi init-console`: database to head, sample lvs.cf, first revision, first admin. Idempotent."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.extensions import db
from piranha_web.models import Revision, User
from piranha_web.users_service import random_password, set_user

SAMPLE_LVS_CF = Path(__file__).resolve().parent / "sample" / "lvs.cf"


def init_console() -> str | None:
    """Do the set-up; returns the new admin password when it created the admin, else None."""
    Path(current_app.config["PIRANHA_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    upgrade(directory=current_app.extensions["migrate"].directory)
    managed = revisions.managed_path()
    if not managed.exists():
        managed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_LVS_CF, managed)
        click.echo(f"==> copied the sample configuration to {managed}")
    if db.session.scalar(select(Revision.id).limit(1)) is None:
        revision = revisions.import_file_as_revision(managed.read_text(encoding="utf-8"), "init-console",
                                                     f"imported {managed} on first run")
        audit("import", {"revision": revision.number, "path": str(managed)}, username="init-console")
        click.echo(f"==> imported {managed} as revision {revision.number}")
    if db.session.scalar(select(User.id).limit(1)) is None:
        password = random_password()
        set_user("admin", password, "admin")
        audit("user.create", {"user": "admin", "role": "admin", "by": "init-console"}, username="init-console")
        return password
    return None


@click.command("init-console")
@with_appcontext
def init_console_command():
    """Upgrade the database, install the sample lvs.cf if missing, import it, create the first admin."""
    try:
        password = init_console()
    except revisions.DraftInvalid as error:
        click.echo(f"error: {revisions.managed_path()} does not validate, nothing imported:", err=True)
        for problem in error.problems:
            click.echo(f"  {revisions.managed_path()}:{problem}", err=True)
        sys.exit(1)
    if password:
        click.echo("")
        click.echo("=" * 64)
        click.echo("  First run: created the console user 'admin' with the password")
        click.echo(f"      {password}")
        click.echo("  It is shown only this once. Change it with: piranha-passwd --user admin")
        click.echo("=" * 64)
        click.echo("")
    else:
        click.echo("==> console database is up to date")
