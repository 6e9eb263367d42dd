"""The life of a report in the console: claim, edit, submit, review, disseminate, purge.

Plain functions over a session, so every rule can be tested without HTTP. Each change a
person makes is audited in the same transaction as the change itself.
"""

from __future__ import annotations

import enum
import re

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import Dissemination, Force, Report, ReportStatus, Urgency
from ivr.models.staff import Role, User
from ivr.platform.db import Database, utcnow
from ivr.reports import routing
from ivr.reports.sanitise import CHECKLIST, CallerDetail, caller_details_in

# Beside the state machine, whose refusals are workflow errors too: callers catch it here.
from ivr.reports.status import WorkError as WorkError
from ivr.reports.status import move
from ivr.staff import audit
from ivr.staff.permissions import Action, can

WORKABLE = (ReportStatus.QUEUED, ReportStatus.RETURNED)
# The languages the call flow offers, by their tags, as people name them.
LANGUAGES = {"en-GB": "English", "cy-GB": "Welsh"}
# An address a mail server will take: one @, no spaces, a dotted domain. Deliberately
# plain: the force's own mail server is the final judge.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
EDITABLE_FIELDS = (
    "transcript",
    "contact_transcript",
    "force",
    "handler_category",
    "people",
    "what",
    "when_text",
    "where_text",
    "urgency",
)


def queue(
    session: Session,
    status: ReportStatus | None = None,
    category: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> list[Report]:
    """Reports waiting for work, oldest first (by the day received, then queue order)."""
    query = select(Report).order_by(Report.received_on, Report.queue_position, Report.reference)
    if visible is not None:
        query = query.where(visible)
    query = (
        query.where(Report.status == status)
        if status
        else query.where(
            Report.status.in_((*WORKABLE, ReportStatus.SUBMITTED, ReportStatus.APPROVED))
        )
    )
    if category:
        query = query.where(or_(Report.handler_category == category, Report.category == category))
    return list(session.scalars(query.limit(500)))


def audio_failures(session: Session) -> list[tuple[Report, str]]:
    """Reports whose audio could not be stored, oldest first, each with the reason."""
    rows = session.execute(
        select(Report, RecordingJob.last_error)
        .join(RecordingJob, RecordingJob.report_id == Report.id)
        .where(Report.status == ReportStatus.AUDIO_FAILED, RecordingJob.state == JobState.FAILED)
        .order_by(Report.received_on, Report.reference, RecordingJob.id)
        .limit(500)
    ).tuples()
    found: dict[str, tuple[Report, str]] = {}
    for report, reason in rows:
        found.setdefault(report.id, (report, reason or "no reason recorded"))
    return list(found.values())


def claim_next(db: Database, user: User, any_language: bool = False) -> str | None:
    """Claim the oldest report nobody holds, in ``user``'s languages; return its reference.

    A claim is a lease. Only a supervisor may ask for ``any_language``. A returned report
    is held by its author, so it is never offered here to anyone else, however long ago
    it came back (only a queued report's claim lapses).

    A claim holds through the end of the day it was taken or last saved (UTC): like
    everything else about a report, it is kept by the day, never by the time.

    One statement picks and claims: on PostgreSQL its ``FOR UPDATE SKIP LOCKED`` lets
    many handlers claim at once without waiting on each other, and the row lock makes a
    double claim impossible (on SQLite, transactions are serialised). Reports nobody
    holds come from the head of a partial index; lapsed claims are the rare second choice.
    """
    if any_language and not routing.may_take_any_language(user):
        raise WorkError("only a supervisor takes the next report in any language")
    today = utcnow().date()
    order = (Report.received_on, Report.queue_position, Report.reference)
    unclaimed = (Report.status.in_(WORKABLE), Report.claimed_by.is_(None))
    lapsed = (Report.status == ReportStatus.QUEUED, Report.claimed_through < today)
    # Routing by skill: the same one statement, with the user's languages as a condition.
    skill = () if any_language else (routing.in_languages(user.language_tags),)
    with db.transaction() as session:
        for free in (unclaimed, lapsed):
            oldest = (
                select(Report.id)
                .where(*free, *skill)
                .order_by(*order)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            reference = session.execute(
                update(Report)
                .where(Report.id == oldest.scalar_subquery())
                .values(claimed_by=user.id, claimed_through=today, last_active_on=today)
                .returning(Report.reference)
            ).scalar()
            if reference is not None:
                audit.record(session, user.name, "claim", reference)
                return str(reference)
    return None


def take(db: Database, user: User, reference: str) -> None:
    """Claim the report ``reference`` if nobody holds it (or their claim lapsed).

    One conditional UPDATE: on PostgreSQL a second handler's update waits on the row
    lock, then finds the row no longer free and changes nothing, so exactly one wins.
    A handler takes only reports in their languages; a returned report stays with its
    author (a supervisor reassigns it, from its page).
    """
    today = utcnow().date()
    skill = (
        () if routing.may_take_any_language(user) else (routing.in_languages(user.language_tags),)
    )
    with db.transaction() as session:
        taken = session.execute(
            update(Report)
            .where(
                Report.reference == reference,
                Report.status.in_(WORKABLE),
                or_(
                    Report.claimed_by.is_(None),
                    Report.claimed_by == user.id,
                    and_(Report.status == ReportStatus.QUEUED, Report.claimed_through < today),
                ),
                *skill,
            )
            .values(claimed_by=user.id, claimed_through=today, last_active_on=today)
            .returning(Report.reference)
        ).scalar()
        if taken is not None:
            audit.record(session, user.name, "claim", reference)
            return
        found = session.scalars(select(Report).where(Report.reference == reference)).first()
        holder = session.get(User, found.claimed_by) if found and found.claimed_by else None
    if found is None:
        raise WorkError(f"there is no report {reference}")
    if found.status not in WORKABLE:
        raise WorkError(f"{reference} is no longer waiting for a handler")
    if not routing.may_take_any_language(user) and not routing.speaks(user, found):
        raise WorkError(
            f"{reference} is in {language_name(found.language)}, which your account does not "
            "list; a supervisor can take it or give it to someone who speaks it"
        )
    if found.status is ReportStatus.RETURNED and holder is not None:
        raise WorkError(
            f"{reference} was returned to {holder.name}, who wrote it; "
            "a supervisor can reassign it from its page"
        )
    raise WorkError(f"someone else has just taken {reference}; choose another report")


def held_by(user: User) -> ColumnElement[bool]:
    """The reports ``user`` holds now: their claim has not lapsed, or it was returned to them."""
    return and_(
        Report.claimed_by == user.id,
        or_(Report.claimed_through >= utcnow().date(), Report.status == ReportStatus.RETURNED),
    )


def find_reference(session: Session, text: str) -> str | None:
    """The reference typed into the search box, if a report has exactly that reference."""
    wanted = text.strip().upper()
    if not wanted or len(wanted) > 16:
        return None
    found = session.scalar(select(Report.reference).where(Report.reference == wanted))
    return str(found) if found is not None else None


def active(report: Report) -> None:
    """Note that someone worked on the report today: retention counts from its last such day."""
    report.last_active_on = utcnow().date()


def takeable(report: Report, user: User | None = None) -> bool:
    """True if the report could be taken from the queue now (by ``user``): nobody holds it.

    A returned report's author holds it however long ago it came back; a handler takes
    only reports in their languages.
    """
    lapsed = report.claimed_through is None or report.claimed_through < utcnow().date()
    free = report.claimed_by is None or (lapsed and report.status is ReportStatus.QUEUED)
    if user is not None and not (
        routing.may_take_any_language(user) or routing.speaks(user, report)
    ):
        return False
    return report.status in WORKABLE and free


def holds(report: Report, user: User) -> bool:
    if report.claimed_by != user.id:
        return False
    if report.status is ReportStatus.RETURNED:
        return True  # returned to its author: theirs until they submit it again
    return report.claimed_through is not None and report.claimed_through >= utcnow().date()


def return_to_author(report: Report) -> None:
    """Hold a returned report for the handler who submitted it: it is theirs to mend."""
    report.claimed_by = report.submitted_by
    report.claimed_through = utcnow().date() if report.submitted_by is not None else None


def language_name(tag: str | None) -> str:
    """A language tag as people say it: "Welsh" for cy-GB."""
    return LANGUAGES.get(tag or "", tag or "an unknown language")


class ReportAction(enum.StrEnum):
    """What a person can do to a report from its page."""

    EDIT = "edit"  # save and submit
    RELEASE = "release"
    REASSIGN = "reassign"
    REVIEW = "review"
    DISSEMINATE = "disseminate"


def allowed(report: Report, user: User) -> frozenset[ReportAction]:
    """The actions ``user`` may take on ``report`` now: the page shows these, and no more."""
    actions: set[ReportAction] = set()
    if holds(report, user) and report.status in WORKABLE:
        actions.add(ReportAction.EDIT)
    if report.claimed_by is not None and (
        holds(report, user) or can(user.role, Action.RELEASE_CLAIM)
    ):
        actions.add(ReportAction.RELEASE)
        if can(user.role, Action.RELEASE_CLAIM):
            actions.add(ReportAction.REASSIGN)
    if (
        report.status is ReportStatus.SUBMITTED
        and can(user.role, Action.REVIEW)
        and report.submitted_by != user.id
    ):
        actions.add(ReportAction.REVIEW)
    if report.status in (ReportStatus.APPROVED, ReportStatus.DISSEMINATED) and can(
        user.role, Action.DISSEMINATE
    ):
        actions.add(ReportAction.DISSEMINATE)
    return frozenset(actions)


def require_claim(report: Report, user: User) -> None:
    if not holds(report, user):
        raise WorkError("take this report first (or your claim on it has lapsed)")


def release(session: Session, report: Report, actor: User, to: User | None = None) -> None:
    """Release a claim, or hand it to someone else (a supervisor's call)."""
    if to is not None and to.role not in (Role.HANDLER, Role.SUPERVISOR):
        raise WorkError(f"{to.name} does not work reports")
    report.claimed_by = to.id if to else None
    report.claimed_through = utcnow().date() if to else None
    active(report)
    audit.record(
        session,
        actor.name,
        "reassign" if to else "release",
        report.reference,
        f"to user {to.id}" if to else "",
    )


def save(session: Session, report: Report, user: User, fields: dict[str, str]) -> None:
    """Save the handler's work (autosave); renews their claim."""
    require_claim(report, user)
    if report.status not in WORKABLE:
        raise WorkError("this report is no longer being written")
    for name in EDITABLE_FIELDS:
        if name in fields:
            value = fields[name].strip() if name != "transcript" else fields[name]
            if name == "urgency":
                try:
                    value = Urgency(value)
                except ValueError:
                    raise WorkError("choose an urgency from the list") from None
                if value is Urgency.RISK_TO_LIFE and report.urgency is not Urgency.RISK_TO_LIFE:
                    audit.record(
                        session,
                        user.name,
                        "escalate",
                        report.reference,
                        "risk to life or of serious harm",
                    )
            setattr(report, name, value or (None if name in ("force", "handler_category") else ""))
    report.sanitised = False  # any change needs the checks again
    report.claimed_through = utcnow().date()
    active(report)
    audit.record(session, user.name, "transcript_save", report.reference)


# What must be filled before a report goes for review: (the page's field id, what to do).
NEEDED = (
    ("transcript", "transcript", "Write the transcript"),
    ("force", "force", "Choose the force"),
    ("handler_category", "handler-category", "Choose a category"),
    ("what", "what", "Say what happened"),
)


class SubmitRefused(WorkError):
    """A refused submission, with each reason beside the field it is about (the field's id)."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(text[0].lower() + text[1:] for _, text in reasons))


def missing(report: Report) -> list[tuple[str, str]]:
    """The fields still empty that a submission needs: (field id, what to do), in page order."""
    return [(field, text) for name, field, text in NEEDED if not getattr(report, name)]


def submit(
    session: Session, report: Report, user: User, checked: int, warnings_reviewed: bool
) -> None:
    """Send for review: fields filled, sanitisation confirmed, warnings looked at.

    A refusal gives every reason at once, each naming its field, so the page can show them
    all beside their fields (as an error summary does) instead of one per attempt.
    """
    require_claim(report, user)
    reasons = missing(report)
    if checked < len(CHECKLIST):
        reasons.append(("checks", "Confirm every sanitisation check before submitting"))
    flagged = caller_details(report)
    if flagged and not warnings_reviewed:
        reasons.append(
            (
                "warnings-reviewed",
                "Look at each highlighted detail, remove what could identify the caller, "
                "then confirm you have reviewed the warnings",
            )
        )
    if reasons:
        raise SubmitRefused(reasons)
    move(session, report, ReportStatus.SUBMITTED, user.name, f"{len(flagged)} warnings reviewed")
    report.sanitised = True
    report.submitted_by = user.id
    report.claimed_by = None
    report.claimed_through = None


def caller_details(report: Report) -> list[CallerDetail]:
    """What in the report's text looks like the caller's own details (for the handler to check)."""
    # Field by field, as the page highlights them: a finding never joins two fields.
    fields = (report.transcript, report.people, report.what, report.when_text, report.where_text)
    return [found for text in fields for found in caller_details_in(text)]


PENDING, SENT = "pending", "sent"


DOWNLOADS = {"pdf": "a PDF", "text": "a text file"}


def is_copy(report: Report, method: str) -> bool:
    """True if sending ``report`` by ``method`` now would be a copy, not a dissemination.

    Dissemination is one act: once a report has gone to its force, downloading its PDF or
    text again is a copy for the supervisor's own use. Only a new email sends it again.
    """
    return method in DOWNLOADS and report.status is ReportStatus.DISSEMINATED


def record_copy(session: Session, report: Report, user: User, method: str) -> None:
    """Audit a download of an already disseminated report as a copy: nothing is sent."""
    if not is_copy(report, method):
        raise WorkError("only a disseminated report's document can be downloaded as a copy")
    audit.record(
        session,
        user.name,
        "download",
        report.reference,
        f"downloaded a copy as {DOWNLOADS[method]} (already disseminated to {report.force})",
    )


def record_dissemination(
    session: Session, report: Report, user: User, method: str, again: bool = False
) -> Dissemination:
    """Record that ``report`` goes to its force; a second time only when ``again`` confirms it.

    The console goes through ``disseminate``, for which a download of a report already
    disseminated is a copy, not a second dissemination.
    """
    if report.status not in (ReportStatus.APPROVED, ReportStatus.DISSEMINATED):
        raise WorkError("only an approved report can be disseminated")
    if not report.force or report.force == "Unknown":
        raise WorkError("choose the force concerned before disseminating")
    earlier = session.scalar(
        select(Dissemination.on)
        .where(Dissemination.report_id == report.id)
        .order_by(Dissemination.id.desc())
        .limit(1)
    )
    if earlier is not None and not again:
        raise WorkError(
            f"this report was already disseminated on {earlier.isoformat()}; "
            "confirm that it should be sent again"
        )
    first = report.status is ReportStatus.APPROVED
    move(session, report, ReportStatus.DISSEMINATED, user.name, f"{method} to {report.force}")
    if first:
        report.disseminated_on = utcnow().date()  # retention counts from the first time
    sent = Dissemination(
        report_id=report.id,
        force=report.force,
        method=method,
        user_id=user.id,
        on=utcnow().date(),
        # An email is kept as pending in this transaction, and sent after it commits:
        # if the mail server is down, the send waits for it instead of being lost.
        delivery=PENDING if method == "email" else None,
    )
    session.add(sent)
    session.flush()
    return sent


def disseminate(
    session: Session, report: Report, user: User, method: str, again: bool = False
) -> Dissemination | None:
    """Send ``report`` to its force by ``method``, or, for a download of a report already
    disseminated, record a copy: then nothing is sent, no confirmation is needed and None
    is returned. Only a real second sending (an email) needs ``again``."""
    if is_copy(report, method):
        record_copy(session, report, user, method)
        return None
    return record_dissemination(session, report, user, method, again)


def set_force_address(session: Session, name: str, address: str, actor: str) -> None:
    """Record where a force's Counter Corruption Unit takes reports."""
    address = address.strip()
    if not EMAIL.fullmatch(address) or len(address) > 200:
        raise WorkError(
            f"{address!r} is not an email address: it needs a name, an @ and a domain "
            "such as ccu@force.police.uk, without spaces"
        )
    force = session.get(Force, name)
    if force is None:
        raise WorkError(f"no force called {name!r} (see: ivr forces list)")
    if force.ccu_email == address:
        return
    force.ccu_email = address
    audit.record(session, actor, "force_email", detail=f"{name}: {address}")


def force_address(session: Session, name: str) -> str:
    force = session.get(Force, name)
    if force is None or not force.ccu_email:
        raise WorkError(
            f"no Counter Corruption Unit address is set for {name}; a supervisor sets it "
            f'on the Counter Corruption Units page (or: ivr forces set-email "{name}" ADDRESS)'
        )
    return force.ccu_email
