"""Lab-only controls (stop/start a real server's service or a director's pulse, cut/restore the directors'
link), registered only when the console runs inside the lab with PIRANHA_LAB_AGENT naming the agent's socket.

Pages are readable by every logged-in user; every POST needs the operator or admin role, carries the CSRF
token (app-wide) and is audited.
"""

from flask import Blueprint, Flask

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("lab", __name__, url_prefix="/lab")
writes_require_role(bp, "operator", "admin")


def register_if_lab(app: Flask, agent_socket: str | None) -> bool:
    """Register the lab blueprint when `agent_socket` is set; the console outside the lab never has it."""
    if not agent_socket:
        return False
    app.config["PIRANHA_LAB_AGENT"] = agent_socket
    app.register_blueprint(bp)

    @app.context_processor
    def lab_mode():
        from piranha_web.lab.routes import lab_context
        return {"lab_mode": True, "lab_context": lab_context}
    return True


from piranha_web.lab import routes  # noqa: E402,F401
