"""HTTP face of the apply engine: thin, all the work is in engine.py."""
from flask import Blueprint, redirect, render_template, url_for

bp = Blueprint("apply", __name__)


@bp.route("/apply", methods=["GET", "POST"])
def index():
    return render_template("apply/index.html")


@bp.route("/apply/retry-sync", methods=["POST"])
def retry_sync():
    return redirect(url_for("apply.index"))
