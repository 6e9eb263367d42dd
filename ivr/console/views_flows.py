"""The operations team's pages: see, edit, try, publish and roll back the call flow."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
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
from ivr.flows import phone_turns
from ivr.flows.diagram import Changes, DiagramUnavailable, changes, to_svg
from ivr.flows.engine import CallState, Engine, EngineError
from ivr.flows.extras import PromptRefused, set_announcement
from ivr.flows.loader import FlowInvalid, LoadedFlow, load_flow_text
from ivr.flows.prompt_drafts import (
    draft_prompt,
    draft_removal,
    phone_prompts,
    prompt_rows,
    publish_prompts,
    recording,
)
from ivr.flows.schema import Flow
from ivr.flows.versions import (
    VersionError,
    diff,
    events,
    history,
    last_published,
    publish,
    published,
    rollback,
    save_draft,
)
from ivr.models.flows import Announcement, FlowVersion
from ivr.services import services
from ivr.staff.permissions import Action

bp = Blueprint("flows", __name__, url_prefix="/console/flows")

MAX_UPLOAD = 16 * 1024 * 1024
# "hotline.yaml:12: what is wrong": the line the editor jumps to.
PROBLEM = re.compile(r"^(?P<where>[^:\n]+:(?P<line>\d+)):\s*(?P<what>.*)$", re.DOTALL)


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


def _live_flow() -> tuple[int, Flow] | None:
    with services().db.reading() as session:
        live = published(session, _name())
        number = live.number if live is not None else None
    return (number, _version(number).flow) if number is not None else None


def _overview(status: int = 200, **form: Any) -> ResponseReturnValue:
    """Render the overview; ``form`` keeps what was typed into a refused form."""
    services().flows.current()  # a fresh database publishes the file first
    with services().db.reading() as session:
        versions = history(session, _name())
        live = published(session, _name())
        live_event = last_published(session, _name(), live.number) if live else None
        trail = events(session, _name())
        prompts = prompt_rows(session, _name())
        notice = session.get(Announcement, _name())
        typed = {
            "texts": dict(notice.texts) if notice else {},
            "ends_at": notice.ends_at.strftime("%Y-%m-%dT%H:%M")
            if notice and notice.ends_at
            else "",
            "active": bool(notice and notice.active),
            "prompt_message": "",
        }
    typed.update(form)
    flow = services().flows.current().flow
    return render_template(
        "console/flows.html",
        versions=versions,
        live=live,
        live_event=live_event,
        events=trail,
        prompts=prompts,
        pending=any(row.draft is not None for row in prompts),
        typed=typed,
        flow=flow,
        name=_name(),
    ), status


@bp.get("/")
@signed_in(Action.MANAGE_FLOWS)
def overview() -> ResponseReturnValue:
    return _overview()


def _problems(problems: list[str]) -> list[dict[str, str]]:
    """Each ``file:line: what`` problem, split so the page can link to its line."""
    split = []
    for problem in problems:
        found = PROBLEM.match(problem)
        split.append(found.groupdict() if found else {"where": "", "line": "", "what": problem})
    return split


def _edit_page(text: str, message: str, problems: list[str]) -> ResponseReturnValue:
    return render_template(
        "console/flow_edit.html", text=text, message=message, problems=_problems(problems)
    ), 400


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
        return _edit_page(text, message, [str(p) for p in invalid.problems])
    if loaded.flow.name != _name():
        return _edit_page(text, message, [f"{_name()}.yaml:1: name must stay {_name()!r}"])
    number = save_draft(services().db, loaded, g.user.name, message or "draft")
    flash(
        f"Saved as version {number} (a draft: callers do not hear it until it is published).",
        "info",
    )
    return redirect(url_for("flows.version_page", number=number), code=303)


def _version_page(
    number: int, message: str = "", error: str = "", status: int = 200
) -> ResponseReturnValue:
    try:
        loaded = _version(number)
        live_flow = _live_flow()
    except (VersionError, FlowInvalid) as problem:
        flash(str(problem), "error")
        return redirect(url_for("flows.overview"))
    with services().db.reading() as session:
        live = published(session, _name())
        change = (
            diff(session, _name(), live.number, number) if live and live.number != number else ""
        )
        state = session.get(FlowVersion, loaded.content_hash).state.value  # type: ignore[union-attr]
        pending = any(row.draft is not None for row in prompt_rows(session, _name()))
    steps = (
        changes(live_flow[1], loaded.flow)
        if live_flow is not None and live_flow[0] != number
        else Changes()
    )
    return render_template(
        "console/flow_version.html",
        number=number,
        flow=loaded.flow,
        state=state,
        live=live,
        change=change,
        steps=steps,
        pending=pending,
        message=message,
        error=error,
    ), status


@bp.get("/v/<int:number>")
@signed_in(Action.MANAGE_FLOWS)
def version_page(number: int) -> ResponseReturnValue:
    return _version_page(number)


@bp.get("/v/<int:number>/diagram.svg")
@signed_in(Action.MANAGE_FLOWS)
def diagram(number: int) -> ResponseReturnValue:
    """Draw a version; a version callers do not hear is drawn with its changes marked."""
    try:
        flow = _version(number).flow
        live = _live_flow()
        against = live[1] if live is not None and live[0] != number else None
        return Response(to_svg(flow, against), mimetype="image/svg+xml")
    except (VersionError, FlowInvalid, DiagramUnavailable) as error:
        return Response(str(error), status=404, mimetype="text/plain")


@bp.post("/v/<int:number>/publish")
@signed_in(Action.MANAGE_FLOWS)
def publish_version(number: int) -> ResponseReturnValue:
    typed = request.form.get("message", "")
    message = typed.strip()
    if not message:
        return _version_page(
            number,
            typed,
            "Nothing was published: say what this version changes, for the history.",
            400,
        )
    try:
        with services().db.reading() as session:
            current = published(session, _name())
        if current is not None and number < current.number:
            result = rollback(
                services().db, _name(), number, g.user.name, services().flows.path.parent, message
            )
        else:
            result = publish(services().db, _version(number), g.user.name, message)
    except (VersionError, FlowInvalid) as error:
        return _version_page(number, typed, f"Nothing was published: {error}.", 409)
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


# A test call keys one key at a menu, or a whole reference or PIN at a collect step.
MAX_KEYED = 32


@bp.post("/v/<int:number>/phone")
@signed_in(Action.MANAGE_FLOWS)
def phone(number: int) -> ResponseReturnValue:
    """One step of the test phone: the page keeps the call's state and sends the key."""
    try:
        flow = _version(number).flow
    except VersionError as error:
        return jsonify(error=str(error)), 404
    body = request.get_json(silent=True) or {}
    with services().db.reading() as session:
        recorded = phone_prompts(session, _name(), body.get("drafts") is not False)
    # What callers hear (and, unless asked not to, the draft prompts), as on a real call.
    engine = Engine(
        flow, lambda step, language: recorded.get((step, language)), services().flows.announcement
    )
    try:
        if not body.get("state"):
            state, turn = engine.begin()
        else:
            state = CallState(**body["state"])
            action = body.get("action", "key")
            turn = (
                engine.recorded(state, action == "speak")
                if action in ("speak", "silence")
                else engine.press(state, str(body.get("key", ""))[:MAX_KEYED])
            )
    except (TypeError, KeyError, ValueError, EngineError) as error:
        return jsonify(error=f"the test call got lost ({error}); start again"), 400
    return jsonify(
        state=state.__dict__,
        heard=phone_turns.heard(
            turn, lambda prompt_id: url_for("flows.prompt_audio", prompt_id=prompt_id)
        ),
        waiting=phone_turns.waiting(turn),
        digits=phone_turns.digits_wanted(turn),
        prompts=phone_turns.prompts(flow, state.step),
    )


@bp.get("/prompts/<prompt_id>/audio")
@signed_in(Action.MANAGE_FLOWS)
def prompt_audio(prompt_id: str) -> ResponseReturnValue:
    """A recorded prompt, published or draft, for the test phone."""
    with services().db.reading() as session:
        found = recording(session, prompt_id)
    if found is None:
        abort(404)
    data, mimetype = found
    return Response(data, mimetype=mimetype)


@bp.post("/prompts")
@signed_in(Action.MANAGE_FLOWS)
def upload_prompt() -> ResponseReturnValue:
    upload = request.files.get("audio")
    try:
        if upload is None or not upload.filename:
            raise PromptRefused("choose a .wav or .mp3 file to upload")
        with services().db.transaction() as session:
            draft_prompt(
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
    flash(
        "The recorded prompt is saved as a draft: callers do not hear it until the prompt "
        "changes are published. Try it on a version's test phone.",
        "info",
    )
    return redirect(url_for("flows.overview"), code=303)


@bp.post("/prompts/remove")
@signed_in(Action.MANAGE_FLOWS)
def remove_prompt() -> ResponseReturnValue:
    step, language = request.form.get("step", ""), request.form.get("language", "")
    try:
        with services().db.transaction() as session:
            done = draft_removal(session, _name(), step, language, g.user.name)
    except PromptRefused as refused:
        flash(f"Nothing was removed: {refused}.", "error")
        return redirect(url_for("flows.overview"), code=303)
    flash(f"{step} ({language}): {done}.", "info")
    return redirect(url_for("flows.overview"), code=303)


@bp.post("/prompts/publish")
@signed_in(Action.MANAGE_FLOWS)
def publish_prompt_changes() -> ResponseReturnValue:
    typed = request.form.get("message", "")
    try:
        with services().db.transaction() as session:
            count = publish_prompts(session, _name(), g.user.name, typed)
    except PromptRefused as refused:
        flash(f"No prompt was published: {refused}.", "error")
        return _overview(400, prompt_message=typed)
    flash(f"{count} prompt change(s) published: callers hear them within seconds.", "info")
    return redirect(url_for("flows.overview"), code=303)


@bp.post("/announcement")
@signed_in(Action.MANAGE_FLOWS)
def announcement() -> ResponseReturnValue:
    flow = services().flows.current().flow
    texts = {lang: request.form.get(f"text_{lang}", "") for lang in flow.languages}
    ends = request.form.get("ends_at", "").strip()
    active = request.form.get("active") == "on"
    try:
        ends_at = datetime.fromisoformat(ends).replace(tzinfo=UTC) if ends else None
        with services().db.transaction() as session:
            set_announcement(session, flow, texts, active, ends_at, g.user.name)
    except ValueError as error:
        flash(f"The announcement was not changed: {error}.", "error")
        return _overview(400, texts=texts, ends_at=ends, active=active)
    flash("The announcement is updated.", "info")
    return redirect(url_for("flows.overview"), code=303)
