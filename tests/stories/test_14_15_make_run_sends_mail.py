"""Issue 14, point 15: `make run` runs the web server AND the scheduler, so e-mail is sent.

Someone who cloned Kitshare runs `make run`, asks for a password reset, and finds the e-mail as an
.eml file in the mail folder; Ctrl-C then stops the web server and the scheduler alike. Before,
`make run` started the web server alone: every e-mail stayed pending and no file appeared.

The test runs the very command the Makefile's `run` recipe ends with (read with `make -n`), with
this checkout's Python, against a copy of the seeded demo database and a mail folder in tmp.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def the_make_run_command(port: int) -> list[str]:
    """The last command of `make run`, with the checkout's flask replaced by this Python's."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Under `make test` this is a sub-make: leave out make's own lines ("make[1]: ...").
    lines = [line for line in dry_run.strip().splitlines() if not line.startswith("make")]
    command = shlex.split(lines[-1])
    assert command[0].endswith("/flask"), dry_run
    return [sys.executable, "-m", "flask", *command[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its exit status is left


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc (Linux)")
def test_make_run_sends_mail_through_its_scheduler_and_ctrl_c_stops_both(demo, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mail = tmp_path / "mail"
    env = {
        **os.environ,
        "KITSHARE_ENV": "development",
        "DATABASE_URL": demo.database_url,
        "MAIL_OUTBOX_DIR": str(mail),
        "KITSHARE_LOG_FORMAT": "text",
    }
    log = (tmp_path / "make-run.log").open("w")
    command = the_make_run_command(port)
    assert command[-5:] == ["serve", "--host", "127.0.0.1", "--port", str(port)]
    # As from a terminal: Ctrl-C (SIGINT) is delivered, even when the suite itself was started as
    # a background job (which ignores SIGINT, and children inherit that).
    kitshare = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def answers() -> bool:
            try:
                return opener.open(f"{base}/healthz", timeout=5).status == 200
            except OSError:
                return False

        wait_until(answers, 60, "the web server to answer")
        processes = children_of(kitshare.pid)
        assert len(processes) == 2, "a web server and a scheduler"

        form = opener.open(f"{base}/password-reset", timeout=10).read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"csrf_token": csrf, "email": demo.email("tom.whitfield")}).encode()
        answer = opener.open(f"{base}/password-reset", data=body, timeout=10)
        assert (
            answer.status == 200 and "we will e-mail it a link" in answer.read().decode()
        )  # after the redirect to sign-in

        emails = wait_until(lambda: sorted(mail.glob("*.eml")), 120, "the scheduler to write the e-mail")
        message = emails[0].read_text()
        assert "To: " + demo.email("tom.whitfield") in message or demo.email("tom.whitfield") in message

        kitshare.send_signal(signal.SIGINT)  # Ctrl-C
        assert kitshare.wait(timeout=30) == 0
        for pid in processes:
            wait_until(lambda: not is_running(pid), 10, f"process {pid} to stop")
        log.flush()
        assert "Traceback" not in (tmp_path / "make-run.log").read_text()
    finally:
        if kitshare.poll() is None:
            kitshare.kill()
        log.close()
        print((tmp_path / "make-run.log").read_text())
