"""Signing in and out, and enrolling with a one-time link."""

from __future__ import annotations

from base64 import b64encode
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ivr.console import signed_in
from ivr.models.staff import User
from ivr.platform.db import utcnow
from ivr.services import services
from ivr.staff.accounts import (
    SIGN_IN_REFUSED,
    AccountError,
    check_password,
    check_sign_in,
    complete_enrolment,
    is_trusted_browser,
    provisioning_qr_svg,
    user_for_enrolment,
)
from ivr.staff.accounts import (
    sign_out as end_session,
)
from ivr.staff.throttle import Attempt

bp = Blueprint("auth", __name__, url_prefix="/console")


DEVICE_COOKIE = "console_device"
DEVICE_DAYS = 180
THROTTLED = "Too many failed sign-ins from this network. Wait 15 minutes, then try again."


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("console/sign_in.html")
    config = services().config
    name = request.form.get("name", "")
    throttle = services().sign_in_throttle
    trusted_for = _device_user()
    password = request.form.get("password", "")
    with services().db.reading() as reading:
        # The client's address: behind the load balancer, ProxyFix has put it here.
        attempt = Attempt(
            name,
            request.remote_addr or "(unknown)",
            trusted=is_trusted_browser(reading, name, trusted_for),
        )
        if throttle.refuses(attempt):
            flash(THROTTLED, "error")
            return render_template("console/sign_in.html", name=name), 429
        # The hash, outside the transaction: it holds no lock while it works.
        checked = check_password(reading, name, password)
    with services().db.transaction() as db_session:
        result = check_sign_in(
            db_session,
            name,
            password,
            request.form.get("code", ""),
            config.lockout_attempts,
            timedelta(minutes=config.lockout_minutes),
            trusted_for=trusted_for,
            checked=checked,
        )
        if result.user is not None:
            user_id, epoch = result.user.id, result.user.session_epoch
    if result.user is None:
        if result.refusal == SIGN_IN_REFUSED:  # a code used already is no guess
            throttle.failed(attempt)
        flash(result.refusal, "error")
        return render_template("console/sign_in.html", name=name), 401
    session.clear()  # a fresh session: nothing carried over from before signing in
    session.update(user_id=user_id, epoch=epoch, seen=utcnow().timestamp())
    session.permanent = True
    target = request.args.get("next", "")
    response = redirect(target if target.startswith("/console/") else url_for("queue.queue_page"))
    # This browser is now one its user signs in from: a lockout strangers cause spares it.
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer().dumps(user_id),
        max_age=DEVICE_DAYS * 86400,
        path="/console/",
        secure=config.cookies_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def _device_signer() -> URLSafeTimedSerializer:
    # Signs with the current key; a key being rotated out still verifies (itsdangerous
    # signs with the last key of the list and accepts any).
    fallbacks = list(current_app.config.get("SECRET_KEY_FALLBACKS") or ())
    return URLSafeTimedSerializer([*fallbacks, current_app.secret_key or ""], salt="console-device")


def _device_user() -> int | None:
    """Return the user this browser has signed in as before, if its cookie says so."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        user_id = _device_signer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    return user_id if isinstance(user_id, int) else None


@bp.post("/sign-out")
@signed_in()
def sign_out() -> ResponseReturnValue:
    with services().db.transaction() as db_session:
        user = db_session.get(User, g.user.id)
        if user is not None:
            end_session(db_session, user)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str) -> ResponseReturnValue:
    if request.method == "POST":
        try:
            with services().db.transaction() as db_session:
                complete_enrolment(
                    db_session,
                    token,
                    request.form.get("password", ""),
                    request.form.get("confirm", ""),
                    request.form.get("code", ""),
                )
        except AccountError as error:
            flash(str(error), "error")
            return _enrolment_page(token, 400)
        flash("You are enrolled. Sign in with your password and a code from the app.", "info")
        return redirect(url_for("auth.sign_in"))
    return _enrolment_page(token, 200)


def _enrolment_page(token: str, status: int) -> ResponseReturnValue:
    try:
        with services().db.transaction() as db_session:
            user = user_for_enrolment(db_session, token)
            name, secret, qr = user.name, user.totp_secret, provisioning_qr_svg(user)
    except AccountError as error:
        flash(str(error), "error")
        return render_template("console/message.html", title="Enrolment link not valid"), 404
    # The QR code is an SVG shown as a data: image; the CSP allows no inline script.
    image = b64encode(qr.encode()).decode()
    return render_template("console/enrol.html", name=name, secret=secret, qr=image), status
