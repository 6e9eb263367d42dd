"""A loopback stand-in for Twilio's REST and media endpoints, for development and tests.

It behaves as Twilio's documented API does for what this service uses: recordings
fetched as ``{RecordingUrl}.wav`` with HTTP Basic auth, listed, and deleted; call logs
deleted; the account read; the account's phone numbers found and their voice settings
updated. The phone (``ivr call``) uploads the caller's audio here, as Twilio would keep
it. Faults can be switched on to test retries: 5xx answers, 404 while a file is
"still processing", slow answers, media cut a byte short.

It holds one number, ``SEEDED_NUMBER``, as Twilio has it when just bought: no URLs.
Tests add more with ``POST /_emulator/numbers``.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, make_server

from ivr.dev.phone import new_sid

API = "/2010-04-01/Accounts/<account>"
# SID patterns as twilio-oai states them for the Sid path parameters.
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
SEEDED_NUMBER = "+448000112233"
# The number settings an update may change, by Twilio's form name.
NUMBER_FIELDS = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid",
    "VoiceCallerIdLookup": "voice_caller_id_lookup",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "TrunkSid": "trunk_sid",
}
# Fields twilio-oai types as boolean (api_v2010 IncomingPhoneNumber): JSON true/false.
BOOLEAN_NUMBER_FIELDS = {"VoiceCallerIdLookup"}


@dataclass
class EmulatorState:
    """Recordings held, what was deleted, and faults to inject."""

    account_sid: str
    auth_token: str
    # sid -> (call sid, wav, created): what the account holds, as Twilio keeps it
    recordings: dict[str, tuple[str, bytes, datetime]] = field(default_factory=dict)
    # A recording's status when it is not "completed" (e.g. "absent", "processing").
    statuses: dict[str, str] = field(default_factory=dict)
    # sid -> (source, channels) when not the <Record> verb's ("RecordVerb", 1): how the
    # recording was made, as the resource's source and channels fields say.
    kinds: dict[str, tuple[str, int]] = field(default_factory=dict)
    # sid -> (call sid, created): Twilio keeps a deleted recording's metadata for 40 days,
    # listed and fetched only with IncludeSoftDeleted=true, with the status "deleted".
    soft_deleted: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    deleted_recordings: list[str] = field(default_factory=list)
    deleted_calls: list[str] = field(default_factory=list)
    # Text messages the account's log holds (sent to the number, or our answers).
    messages: set[str] = field(default_factory=set)
    deleted_messages: list[str] = field(default_factory=list)
    media_fetches: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    account_status: str = "active"
    # sid -> the number's resource, in Twilio's JSON shape
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_number(self, phone_number: str, **settings: str) -> dict[str, Any]:
        """Hold a number as Twilio does once bought: no URLs, unless ``settings`` give some."""
        sid = new_sid("PN")
        now = format_datetime(datetime.now(UTC), usegmt=True)
        number: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "phone_number": phone_number,
            "friendly_name": phone_number,
            "api_version": "2010-04-01",
            "capabilities": {"voice": True, "sms": False, "mms": False, "fax": False},
            "voice_url": "",
            "voice_method": "POST",
            "voice_fallback_url": None,  # Twilio gives null for an unset fallback
            "voice_fallback_method": "POST",
            "status_callback": "",
            "status_callback_method": "POST",
            "voice_application_sid": "",
            "voice_caller_id_lookup": False,  # twilio-oai: "defaults to false"
            "sms_url": "",
            "sms_method": "POST",
            "trunk_sid": None,
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
        }
        number.update(settings)
        with self.lock:
            self.numbers[sid] = number
        return number

    def take_fault(self, name: str) -> bool:
        """Consume one planned fault called ``name``, if any remain."""
        with self.lock:
            left = self.faults.get(name, 0)
            if left > 0:
                self.faults[name] = left - 1
                return True
        return False


bp = Blueprint("emulator", __name__)


@bp.before_request
def _rest_down() -> ResponseReturnValue | None:
    """While the ``rest_down`` fault is set, Twilio's whole REST side answers 503."""
    if request.path.startswith("/2010-04-01/") and _state().faults.get("rest_down", 0) > 0:
        return jsonify(code=20500, message="Service Unavailable", status=503), 503
    return None


def _state() -> EmulatorState:
    state: EmulatorState = current_app.extensions["twilio_emulator"]
    return state


def _check_auth(account: str) -> None:
    state = _state()
    auth = request.authorization
    if (
        account != state.account_sid
        or auth is None
        or (auth.username, auth.password) != (state.account_sid, state.auth_token)
    ):
        # Twilio's answer to wrong credentials, body and header as recorded.
        refused = jsonify(
            code=20003,
            detail="Your AccountSid or AuthToken was incorrect.",
            message="Authenticate",
            more_info="https://www.twilio.com/docs/errors/20003",
            status=401,
        )
        refused.status_code = 401
        refused.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        abort(refused)


def _not_found() -> ResponseReturnValue:
    return jsonify(
        code=20404,
        message=f"The requested resource {request.path} was not found",
        more_info="https://www.twilio.com/docs/errors/20404",
        status=404,
    ), 404


def _invalid(message: str) -> ResponseReturnValue:
    # Twilio's answer to a parameter it cannot take: 400 with error 21502-style JSON.
    return jsonify(
        code=20001,
        message=message,
        more_info="https://www.twilio.com/docs/errors/20001",
        status=400,
    ), 400


def _media_url(sid: str) -> str:
    return f"{request.host_url.rstrip('/')}/2010-04-01/Accounts/{_state().account_sid}/Recordings/{sid}"


@bp.post("/_emulator/recordings")
def upload() -> ResponseReturnValue:
    """Keep a caller's audio as Twilio would (the phone's side of the emulator)."""
    sid = new_sid("RE")
    with _state().lock:
        _state().recordings[sid] = (
            request.args.get("call_sid", ""),
            request.get_data(),
            datetime.now(UTC),
        )
        if request.args.get("status", "completed") != "completed":
            _state().statuses[sid] = request.args["status"]
        if "source" in request.args or "channels" in request.args:
            _state().kinds[sid] = (
                request.args.get("source", "RecordVerb"),
                int(request.args.get("channels", "1")),
            )
    return jsonify(sid=sid, url=_media_url(sid)), 201


@bp.get("/_emulator/state")
def inspect() -> ResponseReturnValue:
    state = _state()
    return jsonify(
        recordings=sorted(state.recordings),
        deleted_recordings=state.deleted_recordings,
        deleted_calls=state.deleted_calls,
        messages=sorted(state.messages),
        deleted_messages=state.deleted_messages,
        media_fetches=state.media_fetches,
        account_status=state.account_status,
        numbers=sorted(state.numbers.values(), key=lambda number: number["phone_number"]),
    )


@bp.post("/_emulator/numbers")
def add_number() -> ResponseReturnValue:
    """Hold another number, e.g. ``{"phone_number": "+44...", "voice_url": "..."}``."""
    body = dict(request.get_json() or {})
    phone_number = str(body.pop("phone_number", ""))
    if not re.fullmatch(r"\+[1-9]\d{6,14}", phone_number):
        return jsonify(message="phone_number must be E.164, e.g. +448000112233"), 400
    return jsonify(_state().add_number(phone_number, **body)), 201


@bp.put("/_emulator/account")
def set_account() -> ResponseReturnValue:
    """Set the account's status, e.g. ``{"status": "suspended"}``."""
    _state().account_status = str((request.get_json() or {}).get("status", "active"))
    return jsonify(status=_state().account_status)


@bp.put("/_emulator/faults")
def set_faults() -> ResponseReturnValue:
    """Plan faults, e.g. ``{"media_5xx": 2, "media_truncated": 1, "slow_seconds": 3}``."""
    with _state().lock:
        _state().faults.update({k: float(v) for k, v in (request.get_json() or {}).items()})
    return jsonify(_state().faults)


@bp.get(f"{API}/Recordings/<sid>.wav")
def media(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    state.media_fetches += 1
    if state.take_fault("media_5xx"):
        return Response("upstream trouble", status=503)
    if state.take_fault("media_404"):  # Twilio answers 404 while it finishes the file
        return Response("not ready", status=404)
    slow = state.faults.get("slow_seconds", 0)
    if slow:
        time.sleep(slow)
    found = state.recordings.get(sid)
    if found is None or sid in state.statuses:  # gone, or no audio (absent, processing)
        abort(404)
    if state.take_fault("media_truncated"):  # a byte short: PCM of odd length
        return Response(found[1][:-1], mimetype="audio/x-wav")
    return Response(found[1], mimetype="audio/x-wav")


def _recording_resource(
    account: str, sid: str, call: str, created: datetime, status: str
) -> dict[str, Any]:
    """A recording as Twilio's API gives it (twilio-oai: api.v2010.account.recording)."""
    source, channels = _state().kinds.get(sid, ("RecordVerb", 1))
    return {
        "sid": sid,
        "call_sid": call,
        "account_sid": account,
        "api_version": "2010-04-01",
        "status": status,
        "source": source,
        "channels": channels,
        "date_created": format_datetime(created, usegmt=True),
        "uri": f"/2010-04-01/Accounts/{account}/Recordings/{sid}.json",
    }


def _recordings_held(account: str, with_deleted: bool) -> list[dict[str, Any]]:
    state = _state()
    with state.lock:
        held = [
            _recording_resource(account, sid, call, created, state.statuses.get(sid, "completed"))
            for sid, (call, _, created) in state.recordings.items()
        ]
        if with_deleted:
            held += [
                _recording_resource(account, sid, call, created, "deleted")
                for sid, (call, created) in state.soft_deleted.items()
            ]
    # Twilio lists the newest first; ties keep a stable order by SID.
    return sorted(held, key=lambda item: item["sid"])


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() == "true"


@bp.get(f"{API}/Recordings.json")
def list_recordings(account: str) -> ResponseReturnValue:
    """Twilio's ListRecording: filtered by CallSid, in pages of PageSize (default 50)."""
    _check_auth(account)
    call = request.args.get("CallSid")
    if call is not None and not CALL_SID.fullmatch(call):
        return _not_found()
    items = [
        item
        for item in _recordings_held(account, _flag("IncludeSoftDeleted"))
        if call in (None, item["call_sid"])
    ]
    size = min(max(int(request.args.get("PageSize", "50") or 50), 1), 1000)
    page = max(int(request.args.get("Page", "0") or 0), 0)
    start = page * size
    shown = items[start : start + size]
    uri = f"/2010-04-01/Accounts/{account}/Recordings.json"

    def page_uri(number: int) -> str:
        query = {**request.args, "PageSize": str(size), "Page": str(number)}
        query["PageToken"] = f"PA{number}"
        return f"{uri}?{urlencode(query)}"

    return jsonify(
        recordings=shown,
        first_page_uri=page_uri(0),
        next_page_uri=page_uri(page + 1) if start + size < len(items) else None,
        previous_page_uri=page_uri(page - 1) if page > 0 else None,
        page=page,
        page_size=size,
        start=start,
        end=start + max(len(shown) - 1, 0),
        uri=f"{uri}?{urlencode(request.args)}" if request.args else uri,
    )


@bp.get(f"{API}/Recordings/<sid>.json")
def fetch_recording(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    found = [
        item
        for item in _recordings_held(account, _flag("IncludeSoftDeleted"))
        if item["sid"] == sid
    ]
    return jsonify(found[0]) if found else _not_found()


@bp.delete(f"{API}/Recordings/<sid>.json")
def delete_recording(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    if state.take_fault("delete_5xx"):
        return Response("upstream trouble", status=503)
    if not RECORDING_SID.fullmatch(sid):
        return _not_found()
    with state.lock:
        held = state.recordings.pop(sid, None)
        if held is None:
            return _not_found()
        state.statuses.pop(sid, None)
        state.soft_deleted[sid] = (held[0], held[2])  # the metadata stays, the audio goes
        state.deleted_recordings.append(sid)
    return Response(status=204)


@bp.delete(f"{API}/Calls/<sid>.json")
def delete_call(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    if not CALL_SID.fullmatch(sid):
        return _not_found()
    with state.lock:
        if sid in state.deleted_calls:
            return _not_found()
        state.deleted_calls.append(sid)
    return Response(status=204)


@bp.delete(f"{API}/Messages/<sid>.json")
def delete_message(account: str, sid: str) -> ResponseReturnValue:
    # twilio-oai, api_v2010 DeleteMessage: 204, or 404 for a message the account lacks.
    _check_auth(account)
    state = _state()
    if not MESSAGE_SID.fullmatch(sid):
        return _not_found()
    with state.lock:
        if sid not in state.messages:
            return _not_found()
        state.messages.discard(sid)
        state.deleted_messages.append(sid)
    return Response(status=204)


@bp.get(f"{API}.json")
def account_resource(account: str) -> ResponseReturnValue:
    _check_auth(account)
    if _state().take_fault("account_5xx"):  # Twilio down: the worker's probe sees it
        return jsonify(code=20500, message="Internal Server Error", status=503), 503
    # Real Twilio also returns the auth token here; the emulator has no need to echo it.
    return jsonify(
        sid=account,
        owner_account_sid=account,
        friendly_name="Hotline (emulated)",
        status=_state().account_status,
        type="Full",
        date_created=format_datetime(datetime(2024, 1, 1, tzinfo=UTC), usegmt=True),
        uri=f"/2010-04-01/Accounts/{account}.json",
    )


@bp.get(f"{API}/IncomingPhoneNumbers.json")
def list_numbers(account: str) -> ResponseReturnValue:
    _check_auth(account)
    # As at Twilio, PhoneNumber matches part of a number, with * for any digit.
    pattern = request.args.get("PhoneNumber", "")
    matcher = re.compile(re.escape(pattern).replace(r"\*", r"\d"))
    with _state().lock:
        found = [
            number
            for _, number in sorted(_state().numbers.items())
            if matcher.search(number["phone_number"])
        ]
    uri = f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json"
    return jsonify(
        incoming_phone_numbers=found,
        first_page_uri=uri,
        next_page_uri=None,
        previous_page_uri=None,
        page=0,
        page_size=len(found),
        start=0,
        end=max(len(found) - 1, 0),
        uri=uri,
    )


@bp.post(f"{API}/IncomingPhoneNumbers/<sid>.json")
def update_number(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    with state.lock:
        number = state.numbers.get(sid)
        if number is None:
            return _not_found()
        for form_name, json_name in NUMBER_FIELDS.items():
            if form_name in request.form:
                value: Any = request.form[form_name]
                if form_name in BOOLEAN_NUMBER_FIELDS:
                    if value.lower() not in {"true", "false"}:
                        return _invalid(f"{form_name} must be true or false")
                    value = value.lower() == "true"
                number[json_name] = value
        number["date_updated"] = format_datetime(datetime.now(UTC), usegmt=True)
        return jsonify(number)


def create_emulator(account_sid: str, auth_token: str) -> Flask:
    app = Flask(__name__)
    state = EmulatorState(account_sid, auth_token)
    state.add_number(SEEDED_NUMBER)
    app.extensions["twilio_emulator"] = state
    app.register_blueprint(bp)
    return app


class RunningEmulator:
    """An emulator served on 127.0.0.1 in a background thread (port 0: any free port)."""

    def __init__(self, account_sid: str, auth_token: str, port: int = 0) -> None:
        self.app = create_emulator(account_sid, auth_token)
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.extensions["twilio_emulator"]
        return state

    def __enter__(self) -> RunningEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
