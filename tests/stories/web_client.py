"""A plain HTTP client for stories that replay what a script, a thief or a racing browser sends:
its own cookie jar, redirects not followed, and the form token read from the last page."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    location: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def csrf_token(self) -> str:
        match = _CSRF.search(self.text)
        assert match, "the page has no form token"
        return html.unescape(match.group(1))


class WebClient:
    """One browser's worth of cookies, speaking plain HTTP to a served app."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(
            _NoRedirect, urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self._opener.open(request, timeout=60) as response:
                return Answer(response.status, "", response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(
                error.code, error.headers.get("Location", ""), error.read().decode(), dict(error.headers)
            )

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self._open(urllib.request.Request(self.base_url + path, headers=headers or {}))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=body, method="POST"))

    def cookie(self, name: str) -> str | None:
        return next((cookie.value for cookie in self.cookies if cookie.name == name), None)

    def sign_in(self, email: str, password: str, remember: bool = False) -> Answer:
        token = self.get("/sign-in").csrf_token()
        data = {"csrf_token": token, "email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/sign-in", data)
