"""A loopback stand-in for Twilio's REST and media endpoints, for development and tests.

It behaves as Twilio's documented API does for what this service uses: recordings
fetched as ``{RecordingUrl}.wav`` with HTTP Basic auth, listed, and deleted; call logs
deleted. The phone (``ivr call``) uploads the caller's audio here, as Twilio would keep
it. Faults can be switched on to test retries: 5xx answers, 404 while a file is
"still processing", slow answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, make_server

from ivr.phone import new_sid

API = "/2010-04-01/Accounts/<account>"


@dataclass
class EmulatorState:
    """Recordings held, what was deleted, and faults to inject."""

    account_sid: str
    auth_token: str
    # sid -> (call sid, wav, created): what the account holds, as Twilio keeps it
    recordings: dict[str, tuple[str, bytes, datetime]] = field(default_factory=dict)
    deleted_recordings: list[str] = field(default_factory=list)
    deleted_calls: list[str] = field(default_factory=list)
    media_fetches: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, name: str) -> bool:
        """Consume one planned fault called ``name``, if any remain."""
        with self.lock:
            left = self.faults.get(name, 0)
            if left > 0:
                self.faults[name] = left - 1
                return True
        return False


bp = Blueprint("emulator", __name__)


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
        abort(401)


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
    return jsonify(sid=sid, url=_media_url(sid)), 201


@bp.get("/_emulator/state")
def inspect() -> ResponseReturnValue:
    state = _state()
    return jsonify(
        recordings=sorted(state.recordings),
        deleted_recordings=state.deleted_recordings,
        deleted_calls=state.deleted_calls,
        media_fetches=state.media_fetches,
    )


@bp.put("/_emulator/faults")
def set_faults() -> ResponseReturnValue:
    """Plan faults, e.g. ``{"media_5xx": 2, "media_404": 1, "slow_seconds": 3}``."""
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
    if found is None:
        abort(404)
    return Response(found[1], mimetype="audio/x-wav")


@bp.get(f"{API}/Recordings.json")
def list_recordings(account: str) -> ResponseReturnValue:
    _check_auth(account)
    items = [
        {
            "sid": sid,
            "call_sid": call,
            "account_sid": account,
            "status": "completed",
            "date_created": format_datetime(created, usegmt=True),
            "uri": f"/2010-04-01/Accounts/{account}/Recordings/{sid}.json",
        }
        for sid, (call, _, created) in sorted(_state().recordings.items())
    ]
    return jsonify(recordings=items, next_page_uri=None, page=0, page_size=len(items))


@bp.delete(f"{API}/Recordings/<sid>.json")
def delete_recording(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    if state.take_fault("delete_5xx"):
        return Response("upstream trouble", status=503)
    with state.lock:
        if state.recordings.pop(sid, None) is None:
            return jsonify(code=20404, message="not found", status=404), 404
        state.deleted_recordings.append(sid)
    return Response(status=204)


@bp.delete(f"{API}/Calls/<sid>.json")
def delete_call(account: str, sid: str) -> ResponseReturnValue:
    _check_auth(account)
    state = _state()
    with state.lock:
        if sid in state.deleted_calls:
            return jsonify(code=20404, message="not found", status=404), 404
        state.deleted_calls.append(sid)
    return Response(status=204)


def create_emulator(account_sid: str, auth_token: str) -> Flask:
    app = Flask(__name__)
    app.extensions["twilio_emulator"] = EmulatorState(account_sid, auth_token)
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
