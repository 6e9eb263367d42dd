"""The form's routes: show it, check it, and hand a good report to the domain.

No route here reads the sender's address, browser, referrer or any header about them,
sets a cookie, or logs anything about a report (the access log skips this blueprint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ivr.crypto.keys import KeyServiceError
from ivr.models.reports import Force
from ivr.online import OnlineState, online_state
from ivr.online.form import Checked, check
from ivr.online.guard import TOKEN_PARAM, UNREAD_KEY, FormExpired, Passed
from ivr.online.picture import draw
from ivr.online.texts import LANGUAGES, UI, flow_wording, message
from ivr.outside.storage import StoreUnavailable
from ivr.reports import online
from ivr.reports.questions import QUESTIONS
from ivr.services import services

bp = Blueprint(
    "online",
    __name__,
    url_prefix="/report",
    static_folder=str(Path(__file__).resolve().parents[1] / "static" / "online"),
    static_url_path="/static",
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def _state() -> OnlineState:
    return online_state()


@bp.before_request
def _limit_upload() -> None:
    limits = _state().limits
    request.max_content_length = limits.max_request_bytes
    request.max_form_memory_size = (limits.max_text + 100) * 4 * 8
    request.upload_cap = limits.max_file_bytes  # type: ignore[attr-defined]


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers.pop("Set-Cookie", None)
    return response


@bp.get("")
@bp.get("/cy")
def form_page() -> ResponseReturnValue:
    return _render(_lang(), Checked(values={"anonymity": "anonymous"}))


@bp.post("")
@bp.post("/cy")
def send() -> ResponseReturnValue:
    state, lang = _state(), _lang()
    if request.environ.get("asgi.scope", {}).get(UNREAD_KEY):
        # The front did not read this body: its token was not ours, or was spent.
        state.limit.count("expired")
        return _render(
            lang, Checked(values={"anonymity": "anonymous"}, errors={"form": "err_unread"}), 400
        )
    wording = _wording(lang)
    checked = check(
        request,
        LANGUAGES[lang],
        {key for key, _ in wording.categories},
        set(_forces()),
        state.limits,
    )
    try:
        challenge = state.guard.read(request.args.get(TOKEN_PARAM, ""))
    except FormExpired:
        state.limit.count("expired")
        checked.errors["form"] = "err_expired"
        return _render(lang, checked, 400)
    passed = state.guard.passed(
        challenge,
        request.form.get("work", ""),
        request.form.get("answer", ""),
        state.limit.bits(),
    )
    if passed is Passed.STALE:
        # Reports grew while this form was open: the browser does today's work, and
        # the sender (who keeps every answer) sends it again.
        state.limit.count("more_work")
        checked.errors["form"] = "err_more_work"
    elif passed is Passed.NOT:
        state.limit.count("refused_check")
        checked.errors["answer"] = "err_question"
    if checked.errors or checked.submission is None:
        return _render(lang, checked, 400)
    # Spent before it is stored, so a parallel post of the same solved form, to this or
    # any other process, finds it spent; given back if it is not stored, so the sender
    # can send this form again.
    try:
        spent = state.guard.spend(challenge)
    except SQLAlchemyError:
        checked.errors["form"] = "err_store"
        return _render(lang, checked, 503)
    if not spent:
        state.limit.count("expired")
        checked.errors["form"] = "err_expired"
        return _render(lang, checked, 400)
    if not state.limit.admit(passed):
        state.guard.unspend(challenge)
        checked.errors["form"] = "err_busy"
        return _render(lang, checked, 429)
    built = services()
    try:
        receipt = online.receive(built.db, built.store, built.key_wrapper, checked.submission)
    except (StoreUnavailable, KeyServiceError, SQLAlchemyError, OSError):
        state.guard.unspend(challenge)
        checked.errors["form"] = "err_store"
        return _render(lang, checked, 503)
    state.limit.count("accepted")
    return render_template("online/sent.html", **_page(lang), receipt=receipt)


@bp.get("/picture")
def picture() -> ResponseReturnValue:
    """The human check's picture for the form whose token is in the query."""
    try:
        challenge = _state().guard.read(request.args.get(TOKEN_PARAM, ""))
    except FormExpired:
        return "", 404
    return Response(draw(_state().guard.picture_text(challenge)), mimetype="image/png")


def _lang() -> str:
    return (
        "cy"
        if request.path.rstrip("/").endswith("/cy") or request.args.get("lang") == "cy"
        else "en"
    )


def _wording(lang: str) -> Any:
    return flow_wording(services().flows.current().flow, LANGUAGES[lang])


def _forces() -> list[str]:
    with services().db.reading() as session:
        names = session.scalars(select(Force.name).order_by(Force.name))
        # "Unknown" is the handlers' word for it; the form says "I am not sure".
        return [name for name in names if name != "Unknown"]


def _page(lang: str) -> dict[str, Any]:
    other = "en" if lang == "cy" else "cy"
    return {
        "t": UI[lang],
        "lang": lang,
        "here": "/report/cy" if lang == "cy" else "/report",
        "other_url": "/report/cy" if other == "cy" else "/report",
        "other_lang": other,
    }


def _render(lang: str, checked: Checked, status: int = 200) -> ResponseReturnValue:
    state = _state()
    limits = state.limits
    token, challenge = state.guard.issue(state.limit.bits())
    messages = {}
    for name, key in checked.errors.items():
        words, _, number = key.partition(":")
        messages[name] = message(lang, name, words).format(
            number=number, size=limits.max_file_mb, count=limits.max_files, limit=limits.max_text
        )
    page = render_template(
        "online/form.html",
        **_page(lang),
        wording=_wording(lang),
        questions=QUESTIONS,
        forces=_forces(),
        values=checked.values,
        errors=messages,
        token=token,
        challenge=challenge,
        limits=limits,
    )
    return page, status
