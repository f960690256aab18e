"""The scheduler's report job in a process of its own, for the delivery tests.

    python -m tests.reports.scheduler_process DATABASE_URL run MOMENT [MOMENT ...]
    python -m tests.reports.scheduler_process DATABASE_URL hang MOMENT

``run`` calls ``scheduler.deliver_reports`` (what APScheduler runs) once at each moment (ISO
8601, UTC), the clock moved there. ``hang`` stops inside the delivery, after the claim and the
stored copy and before the e-mail, prints "claimed" and waits to be killed.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import time_machine


def main(argv: list[str]) -> None:
    from core.db import db
    from tests.conftest import settings_for_tests
    from web.app import create_app

    url, mode, *moments = argv
    app = create_app(settings_for_tests(url))
    import scheduler
    from reports import delivery

    if mode == "hang":

        def hang(*args: object, **kwargs: object) -> None:
            print("claimed", flush=True)
            time.sleep(600)

        delivery._enqueue = hang  # type: ignore[assignment]
    for moment in moments:
        with time_machine.travel(dt.datetime.fromisoformat(moment), tick=False), app.app_context():
            try:
                scheduler.deliver_reports()
            finally:
                db.session.remove()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
