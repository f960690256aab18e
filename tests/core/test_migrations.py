"""The Alembic revisions build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import db


def test_migrations_and_models_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        # APScheduler's own job table (and its index) is not part of our models: the scheduler's
        # tests may have made it in this database before this test runs.
        differences = [
            d
            for d in compare_metadata(context, db.metadata)
            if getattr(d[1] if d[0] == "remove_table" else getattr(d[1], "table", None), "name", None)
            != "scheduler_jobs"
        ]
    assert differences == []


def test_init_db_is_safe_to_run_again(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "up to date" in second.output


def test_every_revision_downgrades_and_upgrades_again(database_url, tmp_path):
    """A deployment can roll back a release: each revision's downgrade undoes its upgrade."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from tests.conftest import settings_for_tests
    from web.app import create_app

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    else:
        target = sa.make_url(database_url)
        url = target.set(database=f"{target.database}_roundtrip").render_as_string(hide_password=False)
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}_roundtrip"')
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}_roundtrip"')
        admin.dispose()
    roundtrip = create_app(settings_for_tests(url))
    with roundtrip.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
