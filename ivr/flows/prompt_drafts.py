"""Recorded prompts go through draft, test phone and publish, as flow text does.

An upload or a removal is a draft: callers keep hearing what is published while the
test phone plays the draft. Publishing the prompt changes (on their own, with a
message) makes every draft what callers hear at once. Each step is in the flow's
history and in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.flows.extras import PromptRefused, check_prompt
from ivr.flows.schema import Flow, prompt_of
from ivr.flows.versions import record
from ivr.models.flows import FlowAction, PromptAudio, PromptDraft
from ivr.staff import audit


@dataclass(frozen=True)
class PromptRow:
    """One step and language as the ops team sees it: what callers hear, what is pending."""

    step: str
    language: str
    live: PromptAudio | None
    draft: PromptDraft | None

    @property
    def removal(self) -> bool:
        return self.draft is not None and self.draft.data is None


def _draft_for(session: Session, flow: str, step: str, language: str) -> PromptDraft | None:
    return session.scalars(
        select(PromptDraft).where(
            PromptDraft.flow == flow, PromptDraft.step == step, PromptDraft.language == language
        )
    ).first()


def _live_for(session: Session, flow: str, step: str, language: str) -> PromptAudio | None:
    return session.scalars(
        select(PromptAudio).where(
            PromptAudio.flow == flow, PromptAudio.step == step, PromptAudio.language == language
        )
    ).first()


def _check_place(flow: Flow, step: str, language: str) -> None:
    if step not in flow.steps or prompt_of(flow.steps[step]) is None:
        raise PromptRefused(f"{step!r} is not a step with a prompt in {flow.name}")
    if language not in flow.languages:
        raise PromptRefused(f"{language!r} is not one of the flow's languages")


def draft_prompt(
    session: Session, flow: Flow, step: str, language: str, filename: str, data: bytes, author: str
) -> PromptDraft:
    """Keep a checked recording as a draft for ``step`` in ``language``; callers do not hear it yet."""
    _check_place(flow, step, language)
    mimetype, seconds = check_prompt(filename, data)
    draft = _draft_for(session, flow.name, step, language)
    if draft is None:
        draft = PromptDraft(flow=flow.name, step=step, language=language)
        session.add(draft)
    draft.filename, draft.mimetype, draft.data = filename, mimetype, data
    draft.seconds, draft.uploaded_by = seconds, author
    record(
        session, flow.name, 0, FlowAction.PROMPT_DRAFT, author, f"{step} ({language}): {filename}"
    )
    audit.record(session, author, "prompt_upload", detail=f"{step} {language}")
    return draft


def draft_removal(session: Session, flow: str, step: str, language: str, author: str) -> str:
    """Remove a step's recording, as a draft; an unpublished upload is simply dropped.

    Return what happened, for the person who asked.
    """
    draft = _draft_for(session, flow, step, language)
    live = _live_for(session, flow, step, language)
    if live is None:
        if draft is None:
            raise PromptRefused(f"{step} ({language}) has no recording to remove")
        session.delete(draft)
        done = "the draft recording is dropped; callers never heard it"
    else:
        if draft is None:
            draft = PromptDraft(flow=flow, step=step, language=language, uploaded_by=author)
            session.add(draft)
        draft.filename, draft.mimetype, draft.data, draft.seconds = "", "", None, 0.0
        draft.uploaded_by = author
        done = (
            "its removal is a draft: callers hear the recording until prompt changes are published"
        )
    record(session, flow, 0, FlowAction.PROMPT_REMOVAL, author, f"{step} ({language}) removed")
    audit.record(session, author, "prompt_remove", detail=f"{step} {language}")
    return done


def publish_prompts(session: Session, flow: str, author: str, message: str) -> int:
    """Make every prompt draft what callers hear; return how many changes were published."""
    if not message.strip():
        raise PromptRefused(
            "say what the prompt changes are for: the message is kept in the history"
        )
    drafts = list(session.scalars(select(PromptDraft).where(PromptDraft.flow == flow)))
    if not drafts:
        raise PromptRefused("there are no draft prompt changes to publish")
    for draft in drafts:
        live = _live_for(session, flow, draft.step, draft.language)
        if draft.data is None:
            if live is not None:
                session.delete(live)
        else:
            if live is None:
                live = PromptAudio(flow=flow, step=draft.step, language=draft.language)
                session.add(live)
            live.filename, live.mimetype, live.data = draft.filename, draft.mimetype, draft.data
            live.seconds, live.uploaded_by = draft.seconds, draft.uploaded_by
        session.delete(draft)
    session.flush()
    changes = ", ".join(sorted(f"{d.step} ({d.language})" for d in drafts))
    record(session, flow, 0, FlowAction.PROMPT_PUBLISH, author, f"{message.strip()} [{changes}]")
    audit.record(session, author, "prompt_publish", detail=f"{len(drafts)} changes")
    return len(drafts)


def prompt_rows(session: Session, flow: str) -> list[PromptRow]:
    """Every step and language with a recording, published or draft, in step order."""
    live = {
        (p.step, p.language): p
        for p in session.scalars(select(PromptAudio).where(PromptAudio.flow == flow))
    }
    drafts = {
        (d.step, d.language): d
        for d in session.scalars(select(PromptDraft).where(PromptDraft.flow == flow))
    }
    return [
        PromptRow(step, language, live.get((step, language)), drafts.get((step, language)))
        for step, language in sorted(set(live) | set(drafts))
    ]


def phone_prompts(session: Session, flow: str, with_drafts: bool) -> dict[tuple[str, str], str]:
    """(step, language) -> the recording's id, as the test phone plays it."""
    recorded = {
        (p.step, p.language): p.id
        for p in session.scalars(select(PromptAudio).where(PromptAudio.flow == flow))
    }
    if with_drafts:
        for draft in session.scalars(select(PromptDraft).where(PromptDraft.flow == flow)):
            if draft.data is None:
                recorded.pop((draft.step, draft.language), None)
            else:
                recorded[(draft.step, draft.language)] = draft.id
    return recorded


def recording(session: Session, prompt_id: str) -> tuple[bytes, str] | None:
    """The audio and its type of a published or draft recording, for the ops team's ears."""
    found = session.get(PromptDraft, prompt_id) or session.get(PromptAudio, prompt_id)
    if found is not None and found.data is not None:
        return found.data, found.mimetype
    return None
