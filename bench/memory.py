"""Peak memory of one utilisation report, in a process of its own.

``python -m bench.memory DATABASE_URL FROM TO`` builds the app, opens a connection, then resets
the kernel's peak-RSS mark (``/proc/self/clear_refs``), builds the report for every School
(``utilisation_report`` and ``report_to_json``, what every renderer reads) and prints, as JSON,
the resident memory before it, the peak during it and the difference: what the report itself
needed, whatever the interpreter and the libraries already held.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is not in /proc/self/status")


def main(argv: list[str]) -> int:
    url, period_from, period_to = argv[0], dt.date.fromisoformat(argv[1]), dt.date.fromisoformat(argv[2])
    from bench.generate import bench_settings
    from core.config import EXTENSION_KEY
    from core.db import db
    from reports.figures import ReportSettings, utilisation_report
    from reports.figures_json import report_to_json
    from web.app import create_app

    app = create_app(bench_settings(url))
    with app.app_context():
        db.session.execute(db.select(1))
        db.session.rollback()
        before = _status_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        started = time.perf_counter()
        config = app.extensions[EXTENSION_KEY]
        figures = report_to_json(
            utilisation_report(
                db.session,
                period_from,
                period_to,
                None,
                ReportSettings.from_config(config),
                readers=config.report_readers,  # as the page reads it
            )
        )
        seconds = time.perf_counter() - started
        peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "rss_before_mib": round(before / 1024, 1),
                "peak_rss_mib": round(peak / 1024, 1),
                "report_mib": round((peak - before) / 1024, 1),
                "seconds": round(seconds, 2),
                "assets": len(figures["assets"]),
                "bookings": figures["totals"]["bookings"],
                "booked_hours": figures["totals"]["booked_hours"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
