"""Issue 17, point 12: the documented production recipe is true, followed from the document itself.

`pip install .` used to build a wheel without templates, static files or migrations, so the
production install worked only from inside the checkout, and it put twenty generic module names
into site-packages. This test reads docs/deployment.md's commands (the install, the environment
file, `init-db`, `create-user` and gunicorn's `ExecStart`), replaces `/srv/kitshare` with a folder
in tmp (outside the checkout) and runs them: a fresh virtualenv, the install from the checkout,
the schema on PostgreSQL, gunicorn, then `/healthz` and a signed-in page. A change to the recipe
that breaks it, or a file the wheel forgets, fails here.

It runs in the PostgreSQL pass (the document's database); the SQLite pass has nothing to deploy to.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DB

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        TEST_DB != "postgresql", reason="the recipe deploys on PostgreSQL: the PostgreSQL pass runs it"
    ),
]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def the_recipe() -> dict[str, object]:
    """The commands of docs/deployment.md sections 1 and 2, as written there."""
    text = DOC.read_text()
    shell = [line.strip() for block in blocks(text, "sh") for line in block.splitlines()]
    ini = [line.strip() for block in blocks(text, "ini") for line in block.splitlines()]

    def one(lines: list[str], pattern: str) -> str:
        found = [line for line in lines if re.search(pattern, line)]
        assert found, f"docs/deployment.md has no command matching {pattern!r}"
        return found[0]

    env_file = next(block for block in blocks(text, "sh") if "/etc/kitshare/env" in block)
    environment = dict(line.split("=", 1) for line in env_file.splitlines() if re.match(r"^[A-Z_]+=", line))
    return {
        "venv": one(shell, r"-m venv /srv/kitshare/\.venv$"),
        "install": one(shell, r"/srv/kitshare/\.venv/bin/pip install "),
        "init-db": one(shell, r"flask --app wsgi init-db$"),
        "create-user": one(shell, r"flask --app wsgi create-user "),
        "gunicorn": one(ini, r"^ExecStart=.*gunicorn ").removeprefix("ExecStart="),
        "workdir": one(ini, r"^WorkingDirectory=").removeprefix("WorkingDirectory="),
        "environment": environment,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(url: str) -> str:
    target = sa.make_url(url)
    deploy = target.set(database=f"{target.database}_deploy")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{deploy.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{deploy.database}"')
    admin.dispose()
    return deploy.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")


class Browser:
    """Just enough of a browser over plain HTTP: cookies (the production ones are Secure, so a
    cookie jar would not send them over http://; the proxy header says https), redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        for _ in range(5):
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            request = urllib.request.Request(self.base + path, data=body)
            request.add_header("X-Forwarded-Proto", "https")
            request.add_header("X-Forwarded-For", "127.0.0.1")
            if data is not None:  # over HTTPS, Flask-WTF wants a same-site Referer on every POST
                request.add_header("Referer", self.base.replace("http://", "https://") + path)
            if self.cookies:
                request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            opener = urllib.request.build_opener(NoRedirect)
            try:
                response = opener.open(request, timeout=30)
            except urllib.error.HTTPError as error:
                response = error
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            if response.status in (301, 302, 303) and response.headers.get("Location"):
                location = urllib.parse.urlsplit(response.headers["Location"])
                path, data = location.path + (f"?{location.query}" if location.query else ""), None
                continue
            return response.status, response.read().decode()
        raise AssertionError("too many redirects")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_the_documented_install_serves_signed_in_pages_outside_the_checkout(database_url, tmp_path):
    recipe = the_recipe()
    srv = tmp_path / "srv"
    srv.mkdir()

    def local(command: str) -> list[str]:
        """The document's command with /srv/kitshare in tmp and the checkout as the source."""
        command = command.replace("/srv/kitshare/src", str(ROOT)).replace("/srv/kitshare", str(srv))
        return shlex.split(command)

    venv_command = local(str(recipe["venv"]))
    assert venv_command[1:3] == ["-m", "venv"]
    subprocess.run([sys.executable, *venv_command[1:]], check=True, timeout=120)
    subprocess.run(local(str(recipe["install"])), check=True, timeout=900, cwd=srv, capture_output=True)

    site = next((srv / ".venv" / "lib").glob("python3*/site-packages"))
    installed = sorted(
        path.name for path in site.iterdir() if path.name.startswith("kitshare") or path.suffix == ".pth"
    )
    assert "kitshare.pth" in installed and "kitshare" in installed
    for name in ("config.py", "db.py", "errors.py", "cli.py", "web", "core", "inventory"):
        assert not (site / name).exists(), f"{name} is a top-level name in site-packages"
    for folder in ("templates", "static", "migrations"):
        assert any((site / "kitshare" / folder).iterdir()), f"the wheel has no {folder}"

    workdir = Path(str(recipe["workdir"]).replace("/srv/kitshare", str(srv)))
    assert workdir == srv, "the services' working directory is /srv/kitshare, outside the checkout"
    environment = {
        **{key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "HOME")},
        **{
            key: value.replace("/srv/kitshare", str(srv))
            for key, value in dict(recipe["environment"]).items()
        },
        "SECRET_KEY": "deploy-test-" + "k" * 40,
        "DATABASE_URL": fresh_database(database_url),
        "KITSHARE_RATELIMIT_STORAGE_URI": "memory://",  # no Redis here
        "MAIL_SERVER": "",
    }
    assert environment["KITSHARE_ENV"] == "production"
    assert environment["KITSHARE_INSTANCE_DIR"] == str(srv / "instance")

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            local(command), cwd=srv, env=environment, capture_output=True, text=True, timeout=300
        )

    init = run(str(recipe["init-db"]))
    assert init.returncode == 0, init.stderr
    password = "deploy-test-password"
    create = run(re.sub(r"--password '[^']*'", f"--password {password}", str(recipe["create-user"])))
    assert create.returncode == 0, create.stderr
    email = re.search(r"--email (\S+)", str(recipe["create-user"])).group(1)

    port = free_port()
    gunicorn = local(re.sub(r"--bind \S+", f"--bind 127.0.0.1:{port}", str(recipe["gunicorn"])))
    server = subprocess.Popen(
        gunicorn, cwd=srv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = browser.request("/healthz")
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.5)
        assert (status, '"database":"ok"' in body.replace(" ", "")) == (200, True), body

        status, page = browser.request("/sign-in")
        assert status == 200 and "<form" in page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        assert token, page[:2000]
        status, home = browser.request(
            "/sign-in", {"csrf_token": token.group(1), "email": email, "password": password}
        )
        assert status == 200, home[:2000]
        assert "IT Admin" in home and "Sign out" in home
        status, people = browser.request("/admin/users")
        assert status == 200 and email in people
        status, stylesheet = browser.request(
            "/static/" + next(p.name for p in (ROOT / "static").glob("*.css"))
        )
        assert status == 200 and stylesheet
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
