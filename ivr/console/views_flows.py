"""The operations team's pages: see, edit, try, publish and roll back the call flow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import assert_never

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr.console import signed_in
from ivr.flows.diagram import DiagramUnavailable, to_svg
from ivr.flows.engine import (
    AskKeys,
    CallState,
    EndCall,
    Engine,
    EngineError,
    Played,
    RecordAudio,
    Spoken,
    Turn,
)
from ivr.flows.extras import PromptRefused, save_prompt, set_announcement
from ivr.flows.loader import FlowInvalid, LoadedFlow, load_flow_text
from ivr.flows.schema import Flow, prompt_of, prompt_text
from ivr.flows.versions import VersionError, diff, history, publish, published, rollback, save_draft
from ivr.models_flows import Announcement, FlowVersion, PromptAudio
from ivr.permissions import Action
from ivr.services import services

bp = Blueprint("flows", __name__, url_prefix="/console/flows")

MAX_UPLOAD = 16 * 1024 * 1024


@bp.errorhandler(413)
def too_large(_error: Exception) -> ResponseReturnValue:
    flash("The file is larger than 16 MB: a prompt of under two minutes is much smaller.", "error")
    return redirect(url_for("flows.overview"), code=303)


def _name() -> str:
    return services().flows.name


def _version(number: int) -> LoadedFlow:
    with services().db.reading() as session:
        found = session.scalars(
            select(FlowVersion).where(FlowVersion.name == _name(), FlowVersion.number == number)
        ).first()
        if found is None:
            raise VersionError(f"there is no version {number}")
        content = found.content
    return load_flow_text(content, f"version {number}", services().flows.path.parent)


@bp.get("/")
@signed_in(Action.MANAGE_FLOWS)
def overview() -> ResponseReturnValue:
    services().flows.current()  # a fresh database publishes the file first
    with services().db.reading() as session:
        versions = history(session, _name())
        live = published(session, _name())
        prompts = list(session.scalars(select(PromptAudio).where(PromptAudio.flow == _name())))
        notice = session.get(Announcement, _name())
    flow = services().flows.current().flow
    return render_template(
        "console/flows.html",
        versions=versions,
        live=live,
        prompts=prompts,
        notice=notice,
        flow=flow,
        name=_name(),
    )


@bp.route("/edit", methods=["GET", "POST"])
@signed_in(Action.MANAGE_FLOWS)
def edit() -> ResponseReturnValue:
    if request.method == "GET":
        with services().db.reading() as session:
            newest = history(session, _name())
        text = newest[0].content if newest else services().flows.current().content
        return render_template("console/flow_edit.html", text=text, problems=[], message="")
    text = request.form.get("content", "").replace("\r\n", "\n")
    message = request.form.get("message", "").strip()
    try:
        loaded = load_flow_text(text, f"{_name()}.yaml", services().flows.path.parent)
    except FlowInvalid as invalid:
        return render_template(
            "console/flow_edit.html",
            text=text,
            message=message,
            problems=[str(p) for p in invalid.problems],
        ), 400
    if loaded.flow.name != _name():
        return render_template(
            "console/flow_edit.html",
            text=text,
            message=message,
            problems=[f"{_name()}.yaml:1: name must stay {_name()!r}"],
        ), 400
    number = save_draft(services().db, loaded, g.user.name, message or "draft")
    flash(
        f"Saved as version {number} (a draft: callers do not hear it until it is published).",
        "info",
    )
    return redirect(url_for("flows.version_page", number=number), code=303)


@bp.get("/v/<int:number>")
@signed_in(Action.MANAGE_FLOWS)
def version_page(number: int) -> ResponseReturnValue:
    try:
        loaded = _version(number)
    except VersionError as error:
        flash(str(error), "error")
        return redirect(url_for("flows.overview"))
    with services().db.reading() as session:
        live = published(session, _name())
        change = (
            diff(session, _name(), live.number, number) if live and live.number != number else ""
        )
        state = session.get(FlowVersion, loaded.content_hash).state.value  # type: ignore[union-attr]
    return render_template(
        "console/flow_version.html",
        number=number,
        flow=loaded.flow,
        state=state,
        live=live,
        change=change,
    )


@bp.get("/v/<int:number>/diagram.svg")
@signed_in(Action.MANAGE_FLOWS)
def diagram(number: int) -> ResponseReturnValue:
    try:
        return Response(to_svg(_version(number).flow), mimetype="image/svg+xml")
    except (VersionError, DiagramUnavailable) as error:
        return Response(str(error), status=404, mimetype="text/plain")


@bp.post("/v/<int:number>/publish")
@signed_in(Action.MANAGE_FLOWS)
def publish_version(number: int) -> ResponseReturnValue:
    try:
        with services().db.reading() as session:
            current = published(session, _name())
        older = current is not None and number < current.number
        if older:
            result = rollback(
                services().db, _name(), number, g.user.name, services().flows.path.parent
            )
        else:
            result = publish(
                services().db,
                _version(number),
                g.user.name,
                request.form.get("message", "").strip() or f"published version {number}",
            )
    except (VersionError, FlowInvalid) as error:
        flash(str(error), "error")
        return redirect(url_for("flows.version_page", number=number), code=303)
    flash(
        f"Version {result.number} is what new callers hear, on every server within seconds.", "info"
    )
    return redirect(url_for("flows.overview"), code=303)


@bp.get("/diff")
@signed_in(Action.MANAGE_FLOWS)
def diff_page() -> ResponseReturnValue:
    try:
        older, newer = int(request.args.get("from", "")), int(request.args.get("to", ""))
        with services().db.reading() as session:
            change = diff(session, _name(), older, newer)
    except (ValueError, VersionError) as error:
        flash(f"Choose two versions to compare ({error}).", "error")
        return redirect(url_for("flows.overview"))
    return render_template("console/flow_diff.html", older=older, newer=newer, change=change)


@bp.post("/v/<int:number>/phone")
@signed_in(Action.MANAGE_FLOWS)
def phone(number: int) -> ResponseReturnValue:
    """One step of the test phone: the page keeps the call's state and sends the key."""
    try:
        flow = _version(number).flow
    except VersionError as error:
        return jsonify(error=str(error)), 404
    # What callers hear: the recorded prompts and the announcement, as on a real call.
    engine = Engine(flow, services().flows.recorded_prompt, services().flows.announcement)
    body = request.get_json(silent=True) or {}
    try:
        if not body.get("state"):
            state, turn = engine.begin()
        else:
            state = CallState(**body["state"])
            action = body.get("action", "key")
            turn = (
                engine.recorded(state, action == "speak")
                if action in ("speak", "silence")
                else engine.press(state, str(body.get("key", ""))[:1])
            )
    except (TypeError, KeyError, ValueError, EngineError) as error:
        return jsonify(error=f"the test call got lost ({error}); start again"), 400
    return jsonify(
        state=state.__dict__,
        heard=_heard(turn),
        waiting=_waiting(turn),
        prompts=_prompts(flow, state.step),
    )


def _heard(turn: Turn) -> list[dict[str, str]]:
    heard: list[dict[str, str]] = []
    for utterance in turn.said:
        match utterance:
            case Spoken():
                heard.append({"language": utterance.language, "text": utterance.text})
            case Played():
                heard.append({"language": "audio", "text": f"(recording {utterance.audio})"})
            case _:
                assert_never(utterance)
    return heard


def _waiting(turn: Turn) -> str:
    action = turn.action
    match action:
        case AskKeys():
            return "keys: " + " ".join(action.keys)
        case RecordAudio():
            return "a recording"
        case EndCall():
            return "the end of the call"
        case _:
            assert_never(action)


def _prompts(flow: Flow, step: str) -> dict[str, str]:
    prompt = prompt_of(flow.steps[step]) if step in flow.steps else None
    return {language: prompt_text(pieces) for language, pieces in (prompt or {}).items()}


@bp.post("/prompts")
@signed_in(Action.MANAGE_FLOWS)
def upload_prompt() -> ResponseReturnValue:
    upload = request.files.get("audio")
    try:
        if upload is None or not upload.filename:
            raise PromptRefused("choose a .wav or .mp3 file to upload")
        with services().db.transaction() as session:
            save_prompt(
                session,
                services().flows.current().flow,
                request.form.get("step", ""),
                request.form.get("language", ""),
                upload.filename,
                upload.read(MAX_UPLOAD),
                g.user.name,
            )
    except PromptRefused as refused:
        flash(f"The prompt was not saved: {refused}.", "error")
        return redirect(url_for("flows.overview"), code=303)
    flash("The recorded prompt is saved; callers hear it within seconds.", "info")
    return redirect(url_for("flows.overview"), code=303)


@bp.post("/announcement")
@signed_in(Action.MANAGE_FLOWS)
def announcement() -> ResponseReturnValue:
    flow = services().flows.current().flow
    ends = request.form.get("ends_at", "").strip()
    try:
        ends_at = datetime.fromisoformat(ends).replace(tzinfo=UTC) if ends else None
        with services().db.transaction() as session:
            set_announcement(
                session,
                flow,
                {lang: request.form.get(f"text_{lang}", "") for lang in flow.languages},
                request.form.get("active") == "on",
                ends_at,
                g.user.name,
            )
    except ValueError as error:
        flash(f"The announcement was not changed: {error}.", "error")
        return redirect(url_for("flows.overview"), code=303)
    flash("The announcement is updated.", "info")
    return redirect(url_for("flows.overview"), code=303)
