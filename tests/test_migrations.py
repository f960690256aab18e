"""The Alembic revisions build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db import db


def test_migrations_and_models_agree(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = [
                d for d in compare_metadata(context, db.metadata)
                # APScheduler's own job table is not part of our models.
                if not (d[0] == "remove_table" and d[1].name == "scheduler_jobs")
            ]
    assert differences == []


def test_init_db_is_safe_to_run_again(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "up to date" in second.output
