"""Issue 16, point 11: a fuzzer for every form of every page, as schemathesis is for the API.

Each role (technician, manager, finance, admin) opens every page the app's url_map has, on a small
world of two Schools; every <form> found is posted (or sent, for GET forms) with hostile values
and a valid CSRF token: a NUL character, 100 kB of text, numbers beyond any column, years 1 and
9999, wrong types, empty and missing fields. No answer may be a 5xx, and an answer that is an
error (4xx) must leave the database exactly as it was.

To stay quick it is not the whole cross product: each field gets a few hostile values picked
deterministically from the list (a different few for each role), plus three whole-form attacks
(every field NUL, every field 100 kB, every field missing).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from core.db import db
from tests.conftest import PASSWORD, _empty_all_tables, settings_for_tests
from tests.security.test_authorisation_matrix import VOLATILE_COLUMNS, build_world, url_for_rule
from web.app import create_app

ROLES = ("tech_a", "manager_a", "finance", "admin")

HOSTILE = (
    "\x00",
    "Lab\x00note",
    "x" * 100_000,
    "99999999999999999999",
    "2147483648",
    "-2147483649",
    "1e300",
    "NaN",
    "²",
    "١٢",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "",
    " ",
    "[]",
    "<script>",
    "../../etc/passwd",
    None,  # the field is left out
)
#: How many hostile values each field gets, per role.
PER_FIELD = 1
#: Tables that count refusals by design (failed sign-ins toward the lockout, reset mails toward
#: their limit): a refused request may add to them.
COUNTERS = {"sign_in_counters", "password_reset_requests"}

#: Pages whose GET is not a page with forms (files, feeds, JSON).
NOT_PAGES = re.compile(r"\.(csv|xlsx|pdf|ics|json|jpg)$|^/api/|^/healthz|^/\.well-known|/progress\.json$")
#: Forms not to post: signing out ends the role's session (its own test covers it).
SKIPPED_ACTIONS = ("/sign-out",)


@dataclass
class FoundForm:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value the page gives
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type / textarea / select
    seen_on: str = ""


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = FoundForm(
                a.get("method", "get").upper(), a.get("action") or self.page, seen_on=self.page
            )
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                form.kinds.setdefault(name, kind)
                if "checked" in a or name not in form.fields:
                    if "checked" in a or kind == "radio":
                        form.fields[name] = a.get("value", "y")
                return
            if kind in ("submit", "button", "image", "reset"):
                if kind == "submit" and name not in form.fields:
                    form.fields[name] = a.get("value", "")
                    form.kinds[name] = "submit"
                return
            form.fields[name] = a.get("value", "")
            form.kinds[name] = kind
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
            form.kinds[name] = "textarea"
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            form.kinds[name] = "select"
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                form.fields.setdefault(self._select, value)
            if "selected" in a:
                form.fields[self._select] = value

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def forms_on(page: str, html: str) -> list[FoundForm]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms


class Browser:
    """One role's signed-in browser on the app with CSRF protection on."""

    def __init__(self, app: Flask, role: str) -> None:
        self.client = app.test_client()
        self.role = role
        self.sign_in()

    def sign_in(self) -> None:
        page = self.client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = self.client.post(
            "/sign-in", data={"email": f"{self.role}@test.ac.uk", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, f"{self.role} cannot sign in"
        self.token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"',
            self.client.get("/profile").get_data(as_text=True),
        ).group(1)


def _pages(app: Flask, ids: dict) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        if rule.rule.startswith("/password-reset/") or rule.rule.startswith("/calendar/"):
            continue
        path = url_for_rule(rule, ids)
        if not NOT_PAGES.search(path):
            pages.append(path)
    return sorted(set(pages))


def discover(app: Flask, browser: Browser, ids: dict) -> list[FoundForm]:
    """Every form on every page this role may open, once each (by action and fields)."""
    found: dict[tuple, FoundForm] = {}
    for path in _pages(app, ids):
        response = browser.client.get(path)
        assert response.status_code < 500, f"GET {path} as {browser.role}: {response.status_code}"
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in forms_on(path, response.get_data(as_text=True)):
            action = urlsplit(form.action).path or path
            if action in SKIPPED_ACTIONS:
                continue
            key = (form.method, action, tuple(sorted(form.fields)))
            found.setdefault(key, form)
    return list(found.values())


def _pick(name: str, role: str, count: int) -> list[str | None]:
    """``count`` hostile values for a field, the same on every run, different for each role."""
    start = zlib.crc32(f"{role}:{name}".encode()) % len(HOSTILE)
    step = 7  # coprime with len(HOSTILE): the picks spread over the list
    return [HOSTILE[(start + step * n) % len(HOSTILE)] for n in range(count)]


def variants(form: FoundForm, role: str) -> list[tuple[str, dict[str, str]]]:
    """(what is attacked, the values to send) for one form: each field once, and one of the
    whole-form attacks (a different one for each role and form)."""
    editable = [name for name, kind in form.kinds.items() if kind != "submit" and name != "csrf_token"]
    base = dict(form.fields)
    result = []
    for name in editable:
        for value in _pick(name, role, PER_FIELD):
            if value is None:
                if form.kinds[name] == "checkbox":
                    continue  # an unticked box is an ordinary answer, and may deactivate a person
                sent = {k: v for k, v in base.items() if k != name}
            else:
                sent = {**base, name: value}
            result.append((f"{name}={value!r:.30}", sent))
    if editable:
        whole = (
            ("every field NUL", {**base, **{name: "\x00" for name in editable}}),
            ("every field 100 kB", {**base, **{name: "y" * 100_000 for name in editable}}),
            ("every field missing", {k: v for k, v in base.items() if k not in editable}),
        )
        result.append(whole[zlib.crc32(f"{role}:{form.action}".encode()) % len(whole)])
    return result


def fingerprint(app: Flask) -> str:
    """Row counts and a hash of the rows of every table (but the refusal counters)."""
    digest = hashlib.sha256()
    with app.app_context():
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.info.get("reference_data"):  # (the calendar: written by the migrations alone)
                    continue
                if table.name in COUNTERS:
                    continue
                columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
                rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
                digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def csrf_app(database_url: str, app: Flask) -> Flask:
    return create_app(settings_for_tests(database_url, WTF_CSRF_ENABLED=True))


def _fresh_world(app: Flask, csrf_app: Flask, session, role: str) -> tuple[dict, Browser]:
    _empty_all_tables(app)
    session.rollback()
    session.expunge_all()
    world = build_world(session)
    return world, Browser(csrf_app, role)


@pytest.mark.parametrize("role", ROLES)
def test_every_form_refuses_hostile_values_without_a_5xx_or_a_change(
    app: Flask, csrf_app: Flask, session, role: str
) -> None:
    world = build_world(session)
    browser = Browser(csrf_app, role)
    ids = world["ids"]["A"]
    forms = discover(csrf_app, browser, ids)
    assert len(forms) >= (3 if role == "tech_a" else 8), [f.action for f in forms]
    failures: list[str] = []
    sent = 0
    before = fingerprint(app)
    for form in forms:
        action = urlsplit(form.action).path or form.seen_on
        for attack, values in variants(form, role):
            values = {**values, "csrf_token": browser.token} if "csrf_token" in form.fields else values
            where = f"{form.method} {action} as {role}, {attack}"
            sent += 1
            try:
                if form.method == "GET":
                    status = browser.client.get(action, query_string=values).status_code
                else:
                    status = browser.client.post(action, data=values).status_code
            except Exception as error:  # the testing app lets a 500's exception through: say it, go on
                failures.append(f"{where}: 500, {type(error).__name__}: {str(error)[:300]}")
                world, browser = _fresh_world(app, csrf_app, session, role)
                before = fingerprint(app)
                continue
            after = fingerprint(app)
            if status >= 500:
                failures.append(f"{where}: {status}")
            elif status >= 400 and after != before:
                failures.append(f"{where}: answered {status} but changed the database")
            if after != before:
                # Something was really done (a cancellation, a deletion): start again from the same
                # world, so every later attack meets it as the page showed it.
                world, browser = _fresh_world(app, csrf_app, session, role)
                same = {k: v for k, v in world["ids"]["A"].items() if k.endswith("_id")}
                assert same == {k: v for k, v in ids.items() if k.endswith("_id")}, (
                    "the rebuilt world has other ids"
                )
                after = fingerprint(app)
            before = after
    assert sent >= 30
    assert not failures, "\n".join(failures)
