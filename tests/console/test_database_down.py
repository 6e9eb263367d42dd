"""The console while its database is down: a clear page that asks again, and saves that wait."""

from __future__ import annotations

from flask import Flask

from ivr.models.staff import Role
from ivr.platform.db import Database
from tests.console.conftest import AsRole, csrf_token, post

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"


def test_a_handler_meets_a_clear_page_and_kept_words_while_the_database_is_down(
    ingest_app: Flask, as_role: AsRole, queued_report: str
) -> None:
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    token = csrf_token(handler, page)
    built = ingest_app.extensions["ivr"]
    working = built.db
    # Given the console's database stops answering
    built.db = Database.from_url(UNREACHABLE)
    try:
        # Then a page says so plainly, names nobody, and asks again by itself
        shown = handler.get(page)
        text = shown.get_data(as_text=True)
        assert shown.status_code == 503 and shown.headers["Retry-After"] == "10"
        assert "Temporarily unavailable" in text and 'http-equiv="refresh"' in text
        assert "Traceback" not in text and "psycopg" not in text
        # And a save from the report page is refused in a way its script retries
        saved = handler.post(
            f"{page}/save",
            data={"csrf_token": token, "transcript": "words not yet saved"},
            headers={"Accept": "application/json"},
        )
        assert saved.status_code == 503
        assert saved.get_json()["unavailable"] is True and saved.get_json()["saved"] is False
    finally:
        built.db.engine.dispose()
        built.db = working
    # When it answers again, the console is back without anyone restarting it
    back = handler.get(page)
    assert back.status_code == 200 and queued_report in back.get_data(as_text=True)
