import functools
import hmac
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from piranha_web.audit import audit
from piranha_web.auth import bp, throttle
from piranha_web.auth.forms import LoginForm
from piranha_web.extensions import db, login_manager
from piranha_web.models import User, utcnow
from piranha_web.security import is_same_site_path


@login_manager.user_loader
def load_user(session_id: str):
    """The user of a session whose password has not changed since it logged in (see User.get_id)."""
    user_id, _, stamp = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not hmac.compare_digest(stamp, user.session_stamp()):
        return None
    return user


def _safe_next(target: str | None) -> str:
    """Only same-site paths: `next` must not turn the login page into an open redirect."""
    if is_same_site_path(target):
        return target
    return url_for("control.index")


@functools.cache
def _nobody() -> User:
    """A user that no name finds (never saved), with a random password."""
    user = User(username="", role="viewer")
    user.set_password(secrets.token_urlsafe(16))
    return user


def _authenticate(username: str, password: str) -> User | None:
    """The user when the password is right; an unknown name costs the same argon2 check (no timing oracle)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        _nobody().check_password(password)
        return None
    return user if user.check_password(password) else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("control.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        refusal = throttle.refusal(username, request.remote_addr)
        user = None if refusal else _authenticate(username, form.password.data)
        if refusal:
            audit("login", {"reason": "throttled"}, outcome="refused", username=username)
            flash(refusal, "error")
            status = 429
        elif user is None:
            audit("login", {"reason": "bad user name or password"}, outcome="failed", username=username)
            flash("Unknown user name or wrong password.", "error")
            status = 401
        else:
            session.clear()
            session.permanent = True
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            audit("login")
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    audit("logout")
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
