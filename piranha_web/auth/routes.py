from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from piranha_web.audit import audit
from piranha_web.auth import bp, throttle
from piranha_web.auth.forms import LoginForm
from piranha_web.extensions import db, login_manager
from piranha_web.models import User, utcnow


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: `next` must not turn the login page into an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("control.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("control.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        refusal = throttle.refusal(username, request.remote_addr)
        user = db.session.scalar(select(User).where(User.username == username))
        if refusal:
            audit("login", {"reason": "throttled"}, outcome="refused", username=username)
            flash(refusal, "error")
            status = 429
        elif user is None or not user.check_password(form.password.data):
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
