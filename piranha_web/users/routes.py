from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from piranha_web.api import tokens as api_tokens
from piranha_web.audit import audit
from piranha_web.extensions import db
from piranha_web.models import AuditEntry, User
from piranha_web.users import bp
from piranha_web.users.forms import NewUserForm, PasswordForm, RoleForm
from piranha_web.users_service import admin_count, find_user, set_user


def _user_or_404(username: str) -> User:
    user = find_user(username)
    if user is None:
        abort(404)
    return user


def _page(new_form=None, status=200, new_token=None, token_error=None):
    users = db.session.scalars(select(User).order_by(User.username)).all()
    recent = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(30)).all()
    return render_template("users/index.html", users=users, new_form=new_form or NewUserForm(),
                           role_form=RoleForm(), recent=recent, api_tokens=api_tokens.all_tokens(),
                           new_token=new_token, token_error=token_error), status


@bp.route("", strict_slashes=False)
def index():
    return _page()


@bp.route("", methods=["POST"])
def create():
    form = NewUserForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    if find_user(form.username.data) is not None:
        form.username.errors.append(f"user {form.username.data!r} already exists")
        return _page(form, 400)
    user, _ = set_user(form.username.data, form.password.data, form.role.data)
    audit("user.create", {"user": user.username, "role": user.role})
    flash(f"Created user {user.username} ({user.role}).", "success")
    return redirect(url_for("users.index"))


def _would_remove_last_admin(user: User) -> bool:
    return user.role == "admin" and admin_count() <= 1


@bp.route("/<username>/role", methods=["POST"])
def change_role(username):
    user = _user_or_404(username)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
        return _page(status=400)
    if form.role.data != "admin" and _would_remove_last_admin(user):
        flash("The last admin cannot lose the admin role.", "error")
        return _page(status=400)
    old = user.role
    set_user(user.username, None, form.role.data)
    audit("user.role", {"user": user.username, "from": old, "to": user.role})
    flash(f"{user.username} is now {user.role}.", "success")
    return redirect(url_for("users.index"))


@bp.route("/<username>/password", methods=["GET", "POST"])
def password(username):
    user = _user_or_404(username)
    form = PasswordForm()
    if form.validate_on_submit():
        set_user(user.username, form.password.data, None)
        if user.id == current_user.id:    # the new password ends older sessions; keep this one
            login_user(user)
        audit("user.password", {"user": user.username})
        flash(f"Changed the password of {user.username}.", "success")
        return redirect(url_for("users.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("users/password.html", user=user, form=form), status


@bp.route("/<username>/delete", methods=["POST"])
def delete(username):
    user = _user_or_404(username)
    if user.id == current_user.id:
        flash("You cannot delete your own account.", "error")
        return _page(status=400)
    if _would_remove_last_admin(user):
        flash("The last admin cannot be deleted.", "error")
        return _page(status=400)
    for token in api_tokens.tokens_of(user):
        db.session.delete(token)
    db.session.delete(user)
    db.session.commit()
    audit("user.delete", {"user": username})
    flash(f"Deleted user {username}.", "success")
    return redirect(url_for("users.index"))


@bp.route("/tokens", methods=["POST"])
def create_token():
    """A new API token for the chosen user, shown on this one page and never again (only its hash is kept)."""
    user = find_user(request.form.get("user", ""))
    if user is None:
        return _page(status=400, token_error=f"no user {request.form.get('user', '')!r}")
    try:
        row, token = api_tokens.create(user, request.form.get("name", ""))
    except api_tokens.TokenError as error:
        return _page(status=400, token_error=str(error))
    audit("api_token.create", {"user": user.username, "name": row.name, "prefix": row.prefix})
    return _page(new_token={"user": user.username, "name": row.name, "token": token})


@bp.route("/tokens/<int:number>/revoke", methods=["POST"])
def revoke_token(number):
    row = api_tokens.revoke(number)
    if row is None:
        abort(404)
    audit("api_token.revoke", {"name": row.name, "prefix": row.prefix, "user_id": row.user_id})
    flash(f"Revoked the API token {row.name} ({row.prefix}…).", "success")
    return redirect(url_for("users.index"))
