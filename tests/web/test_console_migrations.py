"""The Alembic revisions create exactly the models' tables, from an empty database, and go back down."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from piranha_web import create_app
from piranha_web.extensions import db


def _fresh_app(tmp_path):
    return create_app({"TESTING": True, "PIRANHA_VAR_DIR": str(tmp_path),
                       "PIRANHA_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "SECRET_KEY": "x"})


def test_upgrade_empty_database_to_head_matches_models(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade(directory=app.extensions["migrate"].directory)
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "revisions", "audit_entries", "node_sync", "alembic_version"} <= tables
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []


def test_downgrade_to_base_removes_every_table(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
