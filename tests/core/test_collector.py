"""core.collector: the cyclic garbage collector is paused while a report builds its figures, and
running again afterwards, whatever happened, however many reports overlapped (issue 15 point 14:
its full passes over a yearly report's objects were a third of its time)."""

from __future__ import annotations

import datetime as dt
import gc
import threading

import pytest

import reports.figures as figures
from core.collector import collection_paused
from core.errors import InvalidInput
from reports.figures import ReportSettings, utilisation_report


def test_the_collector_is_paused_inside_and_running_again_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_runs_again_after_an_error():
    with pytest.raises(RuntimeError):
        with collection_paused():
            raise RuntimeError("the report failed")
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_it_runs_again_only_when_the_last_of_several_threads_leaves():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collection_paused():
            first_in.set()
            assert second_in.wait(10)
        first_out.set()

    def second() -> None:
        assert first_in.wait(10)
        with collection_paused():
            second_in.set()
            assert first_out.wait(10)
            seen["after the first left"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first left": False}
    assert gc.isenabled()


def test_a_report_is_worked_out_with_the_collector_paused(session, monkeypatch):
    seen = []
    count_available = figures.count_available

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return count_available(*args, **kwargs)

    monkeypatch.setattr(figures, "count_available", watched)
    utilisation_report(session, dt.date(2026, 1, 1), dt.date(2026, 1, 31), None, ReportSettings())
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(InvalidInput):  # a refused period: running again too
        utilisation_report(session, None, dt.date(2026, 1, 31), None, ReportSettings())  # type: ignore[arg-type]
    assert gc.isenabled()
