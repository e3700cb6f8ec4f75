"""piranha-passwd: create or update a console user (the successor of Piranha's piranha-passwd).

    piranha-passwd [--user NAME] [--role admin|operator|viewer]

The password is read from stdin when stdin is not a terminal (first line), else prompted twice. Settings
(PIRANHA_VAR_DIR, PIRANHA_DATABASE_URL, the instance file) are read exactly as the console reads them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from piranha_web.models import ROLES


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New Password: ")
    second = getpass.getpass("Verify: ")
    if first != second:
        print("Passwords do not match.", file=sys.stderr)
        sys.exit(1)
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="piranha-passwd", description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="admin", help="user name (default: admin)")
    parser.add_argument("--role", choices=ROLES,
                        help="role to give the user (default: viewer for a new user, unchanged otherwise)")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from piranha_web import create_app
    from piranha_web.audit import audit
    from piranha_web.users_service import UserError, set_user
    password = _read_password()
    app = create_app()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        try:
            user, created = set_user(args.user, password, args.role)
        except UserError as error:
            print(f"piranha-passwd: {error}", file=sys.stderr)
            return 1
        name, role = user.username, user.role
        audit("user.create" if created else "user.password", {"user": name, "role": role, "by": "piranha-passwd"},
              username="piranha-passwd")
    print(f"{'Created' if created else 'Updated'} user {name!r} (role {role}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
