"""Configuration revisions: the draft the panels edit, the running revision, import and drift.

    config = draft_config()                 # a fresh LvsConfig to change (draft, else the running one)
    config.virtual_server("web").port = 8080
    save_draft(config, current_user, "web: port 8080", expected_version=form_version)

- The running revision is the last `applied` or `imported` one; the draft (at most one) holds every edit
  not yet applied. A draft is created from the running revision on the first save.
- `save_draft` stores only a model that validates and whose rendered text parses back to the same problems
  (none): nothing invalid is ever stored. `version` counts the draft's saves (the "N unapplied changes").
- `view_config()` is the read-only, cached parse for pages that only display (keyed by revision id and
  version), so a 70,000-line file is not parsed on every request.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from flask import current_app, url_for
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from piranha import lvscf
from piranha_web import banners
from piranha_web.extensions import db
from piranha_web.models import Revision, sha256_hex, utcnow

RUNNING_STATUSES = ("applied", "imported")


class NoConfiguration(Exception):
    """The database holds no revision yet (run `flask --app wsgi init-console`)."""


class DraftInvalid(Exception):
    """The model did not validate; `.problems` are piranha.lvscf Problems to show beside the fields."""

    def __init__(self, problems):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


class StaleDraft(Exception):
    """The draft changed since the form was rendered (someone else saved first)."""


def running_revision() -> Revision | None:
    return db.session.scalar(select(Revision).where(Revision.status.in_(RUNNING_STATUSES))
                             .order_by(Revision.number.desc()).limit(1))


def current_draft() -> Revision | None:
    return db.session.scalar(select(Revision).where(Revision.status == "draft").limit(1))


def _base_revision() -> Revision:
    revision = current_draft() or running_revision()
    if revision is None:
        raise NoConfiguration("no configuration revision yet: run `flask --app wsgi init-console`")
    return revision


def draft_version() -> int:
    """The version a form must send back to `save_draft` (0 while there is no draft)."""
    draft = current_draft()
    return draft.version if draft else 0


def draft_config() -> lvscf.LvsConfig:
    """A fresh model of the draft (or of the running revision when there is no draft) for an edit."""
    return lvscf.loads(_base_revision().text)


_view_cache: dict[tuple, lvscf.LvsConfig] = {}


def view_config() -> lvscf.LvsConfig:
    """The draft's model for display only: shared and cached, callers must not change it."""
    revision = _base_revision()
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], revision.id, revision.version, revision.checksum)
    config = _view_cache.get(key)
    if config is None:
        config = lvscf.loads(revision.text)
        _view_cache.clear()
        _view_cache[key] = config
    return config


def _next_number() -> int:
    return (db.session.scalar(select(func.max(Revision.number))) or 0) + 1


def _checked_text(config) -> str:
    """Render `config`; raise DraftInvalid unless it validates and its text reads back to the same model."""
    problems = config.validate()
    if problems:
        raise DraftInvalid(problems)
    try:
        text = lvscf.dumps(config)
        reparsed = lvscf.loads(text)
    except lvscf.LvsConfigError as error:
        raise DraftInvalid(error.errors) from None
    except ValueError as error:  # the renderer refuses a value it cannot write (validate() says the same)
        raise DraftInvalid([lvscf.Problem(None, str(error))]) from None
    if reparsed != config:
        raise DraftInvalid([lvscf.Problem(None, "the configuration does not read back the same from lvs.cf")])
    return text


def save_draft(config, user, note: str, expected_version: int | None = None) -> Revision | None:
    """Validate and store `config` as the draft; returns it (None when it equals the running revision).

    `expected_version` (from the form) must equal `draft_version()`, else StaleDraft.
    """
    text = _checked_text(config)
    return save_draft_text(text, user, note, expected_version)


def save_draft_text(text: str, user, note: str, expected_version: int | None = None) -> Revision | None:
    """Store already-checked lvs.cf text as the draft (rollback uses it with a past revision's text)."""
    draft = current_draft()
    if expected_version is not None and expected_version != (draft.version if draft else 0):
        raise StaleDraft()
    running = running_revision()
    if running is not None and _canonical(running) == text:
        if draft is not None:
            db.session.delete(draft)
            db.session.commit()
        return None
    if draft is not None and draft.text == text:
        return draft
    if draft is None:
        draft = Revision(number=_next_number(), status="draft", version=0)
        db.session.add(draft)
    else:
        _claim_next_version(draft)
    draft.set_text(text)
    draft.serial_no = lvscf.loads(text).serial_no
    draft.author = user.username
    draft.message = f"{draft.message}\n{note}" if draft.message else note  # one line per change
    draft.created_at = utcnow()
    draft.version += 1
    try:
        db.session.commit()
    except IntegrityError:      # two first edits at once: both took the next revision number, one wins
        db.session.rollback()
        raise StaleDraft() from None
    _keep_one_draft(draft)
    return draft


def _keep_one_draft(draft: Revision) -> None:
    """Two first edits close together may each create a draft: the later one (higher id) yields.

    Checked after the commit, so whatever the interleaving, each save sees every committed draft and exactly
    the oldest survives.
    """
    oldest = db.session.scalar(select(func.min(Revision.id)).where(Revision.status == "draft"))
    if oldest != draft.id:
        db.session.delete(draft)
        db.session.commit()
        raise StaleDraft()


def _claim_next_version(draft: Revision) -> None:
    """Compare-and-set on the draft's version, so two saves of the same version cannot both win.

    The UPDATE matches only while the row still has the version this request read; it also takes the database's
    write lock, so a concurrent save waits, then finds the version moved on and gets StaleDraft.
    """
    read = draft.version
    with db.session.no_autoflush:
        claimed = db.session.execute(
            update(Revision).where(Revision.id == draft.id, Revision.version == read).values(version=read + 1)
        ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise StaleDraft()
    draft.version = read  # the ORM writes read + 1 again below with the new text, in the same transaction


_canonical_cache: dict[tuple, str] = {}


def _canonical(revision: Revision) -> str:
    """The revision's text as the renderer writes it (cached: a hand-written file differs only in layout)."""
    key = (revision.id, revision.checksum)
    if key not in _canonical_cache:
        try:
            text = lvscf.dumps(lvscf.loads(revision.text))
        except (lvscf.LvsConfigError, ValueError):
            text = revision.text
        _canonical_cache.clear()
        _canonical_cache[key] = text
    return _canonical_cache[key]


def managed_path() -> Path:
    return Path(current_app.config["PIRANHA_LVS_CF"])


def managed_file_text() -> str | None:
    try:
        return managed_path().read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def managed_file_checksum() -> str | None:
    """sha256 hex of the managed lvs.cf on disk (None when the file is missing)."""
    try:
        return sha256_hex(managed_path().read_bytes().decode("utf-8", errors="replace"))
    except FileNotFoundError:
        return None


def drift() -> bool:
    """True when the managed file on disk is missing or differs from the running revision."""
    running = running_revision()
    if running is None:
        return False
    return managed_file_checksum() != running.checksum


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_name, tofile=new_name))


def draft_diff() -> str:
    """Unified diff from the running file (on disk, else the running revision) to the draft; "" if none."""
    draft = current_draft()
    if draft is None:
        return ""
    running_text = managed_file_text()
    if running_text is None:
        running = running_revision()
        running_text = running.text if running else ""
    return unified_diff(running_text, draft.text, str(managed_path()), f"draft (revision {draft.number})")


def import_file_as_revision(text: str, user, message: str) -> Revision:
    """Record `text` verbatim as the running revision (status imported); refuse text that does not validate.

    Raises DraftInvalid with the parse or validation problems. Earlier running revisions become superseded.
    """
    try:
        config = lvscf.loads(text)
    except lvscf.LvsConfigError as error:
        raise DraftInvalid(error.errors) from None
    problems = config.validate()
    if problems:
        raise DraftInvalid(problems)
    for older in db.session.scalars(select(Revision).where(Revision.status.in_(RUNNING_STATUSES))):
        older.status = "superseded"
    revision = Revision(number=_next_number(), status="imported", serial_no=config.serial_no,
                        author=getattr(user, "username", user), message=message, version=1)
    revision.set_text(text)
    db.session.add(revision)
    db.session.commit()
    return revision


def _draft_banner():
    draft = current_draft()
    if draft is None:
        return []
    count = draft.version
    noun = "change" if count == 1 else "changes"
    return [("info", f"{count} unapplied {noun} — view diff", url_for("apply.index"))]


def _drift_banner():
    if not drift():
        return []
    if managed_file_checksum() is None:
        return [("error", f"The managed file {managed_path()} is missing.", url_for("history.index"))]
    return [("warning", f"{managed_path()} was changed outside the console — review and import it.",
             url_for("history.drift"))]


def register_banners() -> None:
    banners.register(_draft_banner)
    banners.register(_drift_banner)


def reset_view_cache() -> None:
    _view_cache.clear()


__all__ = ["running_revision", "current_draft", "draft_config", "view_config", "save_draft", "save_draft_text",
           "draft_diff", "import_file_as_revision", "managed_file_checksum", "drift", "draft_version",
           "DraftInvalid", "StaleDraft", "NoConfiguration"]
