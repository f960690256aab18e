"""Story 16.1: signing out ends the session on the server, so saved copies of its cookies open nothing.

Tom Whitfield signs in on a shared computer and ticks "keep me signed in". Someone copies both
cookies (the session and the two-week remember-me) before he signs out. After he signs out,
replaying either copy, or both, over plain HTTP opens nothing.
"""

from __future__ import annotations

from tests.stories.web_client import WebClient

SESSION_COOKIE = "kitshare_session"
REMEMBER_COOKIE = "kitshare_remember"


def _replay(demo, cookies: dict[str, str]):
    thief = WebClient(demo.url)
    return thief.get("/profile", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})


def test_a_session_and_a_remember_me_cookie_saved_before_sign_out_open_nothing_after_it(demo):
    tom = WebClient(demo.url)
    assert tom.sign_in(demo.email("tom.whitfield"), demo.password, remember=True).status == 302
    saved = {SESSION_COOKIE: tom.cookie(SESSION_COOKIE), REMEMBER_COOKIE: tom.cookie(REMEMBER_COOKIE)}
    assert all(saved.values())
    # Each copy works before sign-out, on its own: the replays below test the server.
    assert _replay(demo, {SESSION_COOKIE: saved[SESSION_COOKIE]}).status == 200
    assert _replay(demo, {REMEMBER_COOKIE: saved[REMEMBER_COOKIE]}).status == 200

    profile = tom.get("/profile")
    signed_out = tom.post("/sign-out", {"csrf_token": profile.csrf_token()})
    assert signed_out.status == 302 and signed_out.location.endswith("/sign-in")

    for copy in ({SESSION_COOKIE: saved[SESSION_COOKIE]}, {REMEMBER_COOKIE: saved[REMEMBER_COOKIE]}, saved):
        answer = _replay(demo, copy)
        assert answer.status == 302 and "/sign-in" in answer.location, copy.keys()
    assert tom.get("/profile").status == 302
