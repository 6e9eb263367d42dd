"""The handlers' console: server-rendered pages in their own blueprints.

Registered only on the console tier (``IVR_TIER=console``, or ``all``). The internet-facing
edge never registers it and never loads the key that decrypts audio.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ivr.console.labels import status_label
from ivr.models.staff import User
from ivr.platform.db import utcnow
from ivr.services import Services, services
from ivr.staff.permissions import Action, can

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def register_console(app: Flask, built: Services) -> CSRFProtect:
    """Register the console on ``app``; return its CSRF protection (for exemptions)."""
    config = built.config
    from ivr.console.views_admin import bp as admin_bp
    from ivr.console.views_attachments import bp as attachments_bp
    from ivr.console.views_auth import bp as auth_bp
    from ivr.console.views_flows import bp as flows_bp
    from ivr.console.views_followup import bp as followup_bp
    from ivr.console.views_forces import bp as forces_bp
    from ivr.console.views_queue import bp as queue_bp
    from ivr.console.views_reports import bp as reports_bp
    from ivr.console.views_review import bp as review_bp
    from ivr.console.views_stats import bp as stats_bp

    # Cookies are signed with a key derived from the console's own secret, which the edge
    # never holds: whoever holds the edge cannot mint a session. While that secret is
    # rotated, the previous one still opens sessions and forms (and the next answer signs
    # them with the new one), so a rotation signs nobody out and loses no typed words.
    app.secret_key = session_key(config.console_secret_key)
    previous = config.console_previous_secret_key
    app.config.update(
        SECRET_KEY_FALLBACKS=[session_key(previous)] if previous else [],
        SESSION_COOKIE_NAME="console",
        SESSION_COOKIE_SECURE=config.cookies_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.session_idle_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the session's own expiry bounds the token
    )
    built.mailer  # noqa: B018 - refuse a bad IVR_SMTP_URL at start-up
    csrf = RotatingCsrf(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(followup_bp)
    app.register_blueprint(forces_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(flows_bp)
    app.register_blueprint(stats_bp)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(DBAPIError, _database_unavailable)
    for code in (403, 404, 405, 500):
        app.register_error_handler(code, _error_page)
    # Navigation asks the permission table, as every route does: one place for the rules.
    app.context_processor(lambda: {"user_can": _user_can})
    app.add_template_filter(status_label)
    return csrf


def session_key(console_secret: bytes) -> str:
    """The key that signs sessions (and their forms), derived from the console's secret."""
    return hmac.new(console_secret, b"console-sessions", hashlib.sha256).hexdigest()


class RotatingCsrf(CSRFProtect):  # type: ignore[misc]  # flask-wtf is untyped
    """Flask-WTF checks a form's token with the current key only; a token signed with the
    key being rotated out is signed again with the current one first, so a form opened
    before the rotation still goes through."""

    def _get_csrf_token(self) -> str | None:
        token: str | None = super()._get_csrf_token()
        if not token:
            return token
        current = URLSafeTimedSerializer(current_app.secret_key or "", salt=_CSRF_SALT)
        try:
            current.loads(token)
            return token
        except BadData:
            pass
        for old in current_app.config.get("SECRET_KEY_FALLBACKS") or ():
            try:
                raw = URLSafeTimedSerializer(old, salt=_CSRF_SALT).loads(token)
            except BadData:
                continue
            return current.dumps(raw)
        return token


# Flask-WTF's salt for its signed tokens (flask_wtf.csrf.generate_csrf).
_CSRF_SALT = "wtf-csrf-token"


def _user_can(action: str) -> bool:
    user = g.get("user")
    return user is not None and can(user.role, Action(action))


def secure_headers(response: Response) -> Response:
    """No caching of anything the console shows or plays; a strict CSP; no framing."""
    if request.path.startswith("/console"):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        # same-origin: no address leaves the console, yet its own forms carry the Referer
        # that CSRF protection demands over HTTPS (a missing one is refused there).
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
    return response


ERRORS = {
    403: ("Not allowed", "Your role does not allow this page or action."),
    404: ("Page not found", "There is no such page, or no longer: check the address."),
    405: ("Not possible here", "This address does not take that kind of request."),
    500: (
        "Something went wrong",
        "The console could not do that. Nothing about it is shown here; it has been logged "
        "for the team. Please try again in a moment.",
    ),
}


def _error_page(error: HTTPException) -> ResponseReturnValue:
    """Answer a console error in the console's layout, with a way back; others as before."""
    code = error.code or 500
    if not request.path.startswith("/console"):
        return error
    title, message = ERRORS.get(code, ERRORS[500])
    try:
        _know_the_user()
        return render_template("console/error.html", title=title, message=message), code
    except Exception:  # the page itself failed (the database is down?): still no traceback
        logger.exception("console.error_page_failed")
        return Response(f"{title}. {message}", status=code, mimetype="text/plain")


# How soon a page that found the database down asks again (and a save tries again).
RETRY_SECONDS = 10
DATABASE_DOWN = (
    "the console cannot reach its database just now; your words are kept in this tab "
    "and saved as soon as it answers"
)


def _database_unavailable(error: DBAPIError) -> ResponseReturnValue:
    """The database is down: a clear, self-refreshing answer, never a traceback."""
    if not request.path.startswith("/console"):
        raise error
    logger.warning("console.database_unavailable")
    headers = {"Retry-After": str(RETRY_SECONDS)}
    if "application/json" in request.headers.get("Accept", ""):
        return jsonify(saved=False, unavailable=True, error=DATABASE_DOWN), 503, headers
    g.user = None  # the page names nobody: finding the user needs the database
    page = render_template("console/unavailable.html", retry_seconds=RETRY_SECONDS)
    return page, 503, headers


def _know_the_user() -> None:
    # An error raised before the console's own before-request (CSRF is checked first).
    if "user" not in g:
        load_user()


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    """A form that came back without a valid token: nothing was done; say so plainly."""
    _know_the_user()
    return render_template("console/form_expired.html"), 400


def load_user() -> None:
    """Find the signed-in user, ending sessions that idled out or were revoked."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    now = utcnow().timestamp()
    idle = services().config.session_idle_minutes * 60
    # A read: on SQLite a write transaction here would queue every page behind callbacks.
    with services().db.reading() as db_session:
        user = db_session.get(User, user_id)
        if (
            user is None
            or not user.active
            or user.session_epoch != session.get("epoch")
            or now - float(session.get("seen", 0)) > idle
        ):
            session.clear()
            g.session_expired = True
            return
        db_session.expunge(user)
    session["seen"] = now
    g.user = user


def signed_in(action: Action | None = None) -> Callable[[F], F]:
    """Require a signed-in user (and, if given, permission for ``action``)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                if g.get("session_expired"):
                    flash("You were signed out after a while without activity.", "info")
                return redirect(url_for("auth.sign_in", next=request.path))
            if action is not None and not can(g.user.role, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
