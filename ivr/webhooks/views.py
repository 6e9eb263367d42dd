"""Twilio's webhooks: the Voice URL, step callbacks, status callbacks and the fallback.

Each route follows one recipe: the blueprint's ``before_request`` authenticates and
strips the request (nothing else runs first); the route reads the allow-listed
parameters and the call state its (signed) URL carries, hands them to the call handler,
and answers with TwiML. Any failure past authentication is answered with the fallback,
which still records a report.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from ivr.flows.engine import EngineError
from ivr.flows.registry import UnknownFlowVersion
from ivr.models.reports import RecordingPart, ReportSource
from ivr.outside.twilio_api import is_message_sid
from ivr.platform.logs import event
from ivr.reports.intake import Recording
from ivr.services import services
from ivr.telephony.calls import FINAL_CALL_STATUSES, CallHandler, CallNotFound
from ivr.telephony.urlstate import BadCallState, CallPoint, parse
from ivr.webhooks.boundary import SignatureRefused, TwilioParams, authenticate
from ivr.webhooks.signatures import WebhookSecrets
from ivr.webhooks.twiml import CallbackUrls, render_fallback, render_goodbye, render_text_answer

logger = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/twilio")

WEBHOOK_MAX_BYTES = 64 * 1024


@bp.before_request
def authenticate_request() -> None:
    request.max_content_length = WEBHOOK_MAX_BYTES  # Twilio's forms are small
    svc = services()
    try:
        g.twilio = authenticate(request, WebhookSecrets.of(svc.config), svc.config.public_base)
    except SignatureRefused:
        event(logger, "webhook.refused", logging.WARNING, path=request.path)
        abort(403)


def _calls() -> CallHandler:
    handler = services().calls
    assert handler is not None  # registered only where the config serves webhooks
    return handler


def _params() -> TwilioParams:
    params: TwilioParams = g.twilio
    return params


def _urls() -> CallbackUrls:
    return CallbackUrls(services().config.public_base)


def twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _point() -> CallPoint | None:
    """The call state the callback's URL carries; None if it carries none we can read."""
    try:
        return parse(request.args, _calls().sealer)
    except BadCallState:
        return None


def _part() -> RecordingPart:
    try:
        return RecordingPart(request.args.get("part", "report"))
    except ValueError:
        return RecordingPart.REPORT


def _recording(
    params: TwilioParams, point: CallPoint | None, source: ReportSource, *, absent: bool = False
) -> Recording | None:
    sid = params.get("RecordingSid")
    if not sid:
        return None
    return Recording(
        recording_sid=sid,
        call_sid=params.call_sid,
        part=_part(),
        source=source,
        duration_seconds=params.number("RecordingDuration"),
        ended_by_hangup=params.get("Digits") == "hangup",
        absent=absent,
        language=point.language if point is not None else None,
        choices=dict(point.choices) if point is not None else {},
        # A verified follow-up caller's recording joins the report their reference names.
        followup=point.variables.get("followup") if point is not None else None,
    )


@bp.post("/voice")
def voice() -> Response:
    return twiml(_calls().answer())


@bp.post("/gather")
def gather() -> Response:
    query = request.query_string.decode("latin-1")  # as the boundary checked it
    return twiml(_calls().press(query, _params().get("Digits"), _params().call_sid))


@bp.post("/recorded")
def recorded() -> Response:
    point = _point()
    recording = None if request.args.get("nothing") else _recording(_params(), point, _source())
    if point is None:
        # Keep what was said (without menu choices) before the fallback takes over.
        if recording is not None:
            _calls().recording_status(recording)
        raise CallNotFound()
    reply = _calls().recorded(point, recording, _params().call_sid)
    # None: the caller hung up, and Twilio does not read this answer.
    return twiml(reply if reply is not None else render_goodbye(_urls()))


def _source() -> ReportSource:
    return ReportSource.FALLBACK if request.args.get("source") == "fallback" else ReportSource.MENU


# Twilio's recording statuses that hold no audio (twilio-oai: recording_enum_status, and
# the status callback's "failed" when a recording could not be made or decrypted). Such a
# recording is still a report (the caller called), with nothing to fetch: its call log is
# erased as soon as the rest of the call is stored.
NO_AUDIO = frozenset({"absent", "failed"})


@bp.post("/recording-status")
def recording_status() -> Response:
    params = _params()
    status = params.get("RecordingStatus")
    if status in {"completed", *NO_AUDIO}:
        # The fallback's status callback carries no call state: its report has no choices.
        point = None if _source() is ReportSource.FALLBACK else _point()
        recording = _recording(params, point, _source(), absent=status in NO_AUDIO)
        if recording is not None:
            _calls().recording_status(recording)
    return Response(status=204)


@bp.post("/status")
def call_status() -> Response:
    params = _params()
    if params.get("CallStatus") in FINAL_CALL_STATUSES:
        # Also schedules the erasure of the call log (ivr.telephony.call_logs), in the same
        # transaction, or spooled with the call's end while the database is down.
        _calls().ended(params.call_sid)
    return Response(status=204)


# A text message: its log is erased once final (a received text is final at once; our
# answer once sent, delivered, undelivered or failed), as Twilio deletes no message sooner.
FINAL_MESSAGE_STATUSES = frozenset(
    {"received", "sent", "delivered", "undelivered", "failed", "read"}
)


@bp.post("/sms")
def text_message() -> Response:
    """A text to the hotline's number: answer with how to report; erase it at Twilio."""
    params = _params()
    if is_message_sid(params.get("MessageSid")):
        _calls().text_done(params.get("MessageSid"))
    return twiml(render_text_answer(_urls()))


@bp.post("/sms-status")
def text_message_status() -> Response:
    params = _params()
    sid = params.get("MessageSid")
    if is_message_sid(sid) and params.get("MessageStatus") in FINAL_MESSAGE_STATUSES:
        _calls().text_done(sid)
    return Response(status=204)


@bp.post("/fallback")
def fallback() -> Response:
    # Twilio calls this when the Voice URL failed: depend on nothing but the request.
    event(logger, "call.fallback", logging.WARNING)
    return twiml(render_fallback(_urls()))


@bp.post("/fallback-recorded")
def fallback_recorded() -> Response:
    recording = _recording(_params(), None, ReportSource.FALLBACK)
    if recording is not None:
        try:
            _calls().recording_status(recording)
        except Exception:
            # Not even the spool took it: the recording is safe at Twilio, and
            # reconciliation will bring it in.
            logger.exception("fallback.register_failed")
    return twiml(render_goodbye(_urls()))


@bp.errorhandler(Exception)
def answer_with_fallback(error: Exception) -> ResponseReturnValue:
    """Never leave a caller on a dead line: on any failure, still take the report."""
    if isinstance(error, HTTPException):
        return error.get_response()
    if isinstance(error, CallNotFound | EngineError | UnknownFlowVersion):
        event(
            logger, "call.unknown", logging.WARNING, path=request.path, error=type(error).__name__
        )
    else:
        current_app.logger.exception("webhook.failed path=%s", request.path)
    return twiml(render_fallback(_urls()))
