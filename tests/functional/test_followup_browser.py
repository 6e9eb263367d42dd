"""Anonymous follow-up end to end: an anonymous caller is asked a question, and answers by phone.

The service runs as ``make run`` starts it (``ivr serve --with-worker``), Twilio's stand-in
on loopback, a caller with a planted number on a phone over HTTP, and a handler in
Chromium. At the end, the planted number is searched for in every store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import func, select

from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.reports import AudioObject, Report, ReportStatus
from ivr.models.staff import User
from ivr.platform.db import Database
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, REPO
from tests.functional.axe import assert_accessible
from tests.functional.followup_pages import FollowUpSection, PhoneCaller
from tests.functional.pages import EnrolPage, QueuePage, ReportPage, SignInPage
from tests.functional.servers import free_port, ivr, serving_with_worker, set_up_as_make_run
from tests.test_anonymity import TRACES, dump_database, files_written

pytestmark = pytest.mark.slow

PASSWORD = "a long and private passphrase"
PIN = "739164"


@dataclass(frozen=True)
class Journey:
    """A caller's keys and words in one language, and what the handler asks them."""

    language: str
    first_key: str  # at the bilingual welcome
    category: str  # on the report-about menu
    question: str
    reference_ready: str
    answer_added: str


ENGLISH = Journey(
    "en-GB",
    "1",
    "1",
    "Which station was the officer working from, and on which shift?",
    "Your follow-up reference is ready",
    "What you said has been added to your report",
)
WELSH = Journey(
    "cy-GB",
    "9",
    "3",
    "Ym mha orsaf roedd y swyddog yn gweithio, ac ar ba shifft?",
    "Mae eich cyfeirnod dilynol yn barod",
    "Mae'r hyn a ddywedoch wedi'i ychwanegu at eich adroddiad",
)


def report_and_take_a_reference(journey: Journey) -> str:
    """The language, 1 to report, a category, 1 anonymous, the recording (#), 1 to send it;
    then 1 for a reference, 2 once it is written down, and the PIN twice."""
    return f"{journey.first_key},1,{journey.category},1,#,1,1,2,{PIN}#,{PIN}#"


def follow_up(journey: Journey, reference: str) -> str:
    """The language, 4 to follow up, the reference and the PIN, then the answer (#)."""
    return f"{journey.first_key},4,{reference}#,{PIN}#,#"


METRICS_TOKEN = "metrics-token-for-the-follow-up-story"


@dataclass
class Hotline:
    """The service as ``make run`` serves it, with Twilio's stand-in beside it."""

    base: str
    env: dict[str, str]
    folder: Path
    emulator: RunningEmulator
    db: Database

    def count(self, query: Any) -> int:
        with self.db.reading() as session:
            return int(session.scalar(query) or 0)

    def metrics(self) -> str:
        response = requests.get(
            f"{self.base}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.text

    def enrolment_link(self, name: str, role: str) -> str:
        added = ivr(["users", "add", name, "--role", role], self.env, self.folder)
        assert added.returncode == 0, added.stderr
        return str(re.findall(r"http\S+/console/enrol/\S+", added.stdout)[-1])


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[Hotline]:
    web = free_port()
    with RunningEmulator(ACCOUNT_SID, AUTH_TOKEN) as emulator:
        env = {
            "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}",
            "IVR_BIND": f"127.0.0.1:{web}",
            "IVR_PUBLIC_URL": f"http://127.0.0.1:{web}",
            "IVR_TWILIO_API_URL": emulator.url,
            "IVR_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_FLOWS_DIR": str(REPO / "call_flows"),
            "IVR_STORAGE_URL": str(tmp_path / "recordings"),
            "IVR_WORKER_POLL_SECONDS": "0.2",
            "IVR_METRICS_TOKEN": METRICS_TOKEN,
            # Everything the service can say, so that the search of its log is worth doing.
            "IVR_LOG_LEVEL": "DEBUG",
        }
        set_up_as_make_run(env, tmp_path)
        db = Database.from_url(env["IVR_DATABASE_URL"])
        try:
            with serving_with_worker(env, tmp_path, f"http://127.0.0.1:{web}"):
                yield Hotline(f"http://127.0.0.1:{web}", env, tmp_path, emulator, db)
        finally:
            db.engine.dispose()


def within(condition: Callable[[], bool], what: str, seconds: float = 180) -> None:
    """Poll ``condition`` with a generous limit (the CI machine is busy), or fail."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.25)


@pytest.mark.parametrize("journey", [ENGLISH, WELSH], ids=["english", "welsh"])
def test_an_anonymous_caller_hears_the_handlers_question_and_answers_it(
    hotline: Hotline, browser: Any, journey: Journey
) -> None:
    caller = PhoneCaller(hotline.base, hotline.emulator.url)
    queued = select(func.count()).select_from(Report).where(Report.status == ReportStatus.QUEUED)
    stored = select(func.count()).select_from(AudioObject)

    # Given a caller (whose number Twilio passes on) who reports anonymously
    # and takes a follow-up reference with a PIN of their own
    first = caller.call(report_and_take_a_reference(journey))
    reference = first.reference()
    assert len(reference) == 12
    assert journey.reference_ready in first.heard()
    # And the worker inside the service has stored the recording and queued the report
    within(lambda: hotline.count(queued) == 1 and hotline.count(stored) == 1, "report queued")

    # Given a handler who enrols and signs in, in their own browser
    handler = browser.new_context().new_page()
    secret = EnrolPage(handler).enrol(hotline.enrolment_link("Alex", "handler"), PASSWORD)
    SignInPage(handler, hotline.base).sign_in("Alex", PASSWORD, secret)
    # (who takes calls in English and Welsh, as an admin set on their account)
    with hotline.db.transaction() as session:
        session.scalars(select(User).where(User.name == "Alex")).one().languages = "en-GB cy-GB"
    # When they take the report, it says the caller took a reference
    report_reference = QueuePage(handler).take_next()
    followup = FollowUpSection(handler)
    expect(followup.status).to_contain_text("The caller took a follow-up reference")
    # And they ask the caller a question
    followup.ask(journey.question)
    # Then the report shows it awaiting the caller, with today's date, and the page is accessible
    expect(followup.status).to_contain_text("Awaiting caller: question asked on")
    assert followup.questions() == [journey.question]
    assert_accessible(handler, "the report page awaiting the caller")
    # And meanwhile they write the report up and send it for review, which lets it go
    report = ReportPage(handler)
    report.type_transcript("A constable sells police checks to a car dealer.")
    report.fill_fields("West Yorkshire Police", "information_for_reward", "Selling checks")
    report.submit()
    with hotline.db.reading() as session:
        assert session.scalars(select(Report)).one().claimed_by is None

    # When the caller calls back, chooses "follow up on a report you made" (4 on the main
    # menu), keys their reference and PIN, and records an answer
    second = caller.call(follow_up(journey, reference), audio="report-cy.wav")
    # Then the service said the handler's question to them, in their language
    assert journey.question in second.said(), second.said()
    assert (journey.language, journey.question) in second.log.heard
    # (and what they keyed never travelled back in clear)
    assert not any(reference in body or PIN in body for body in second.twiml)
    assert journey.answer_added in second.heard()
    assert len(second.log.recordings) == 1
    # And their answer is stored as a second recording of the same one report
    within(lambda: hotline.count(stored) == 2, "the answer stored")
    assert hotline.count(select(func.count()).select_from(Report)) == 1

    # Then the report is back in the handler's own queue, flagged, to be written up again
    handler.goto(f"{hotline.base}/console/?mine=1")
    row = handler.locator(f"tr[data-reference='{report_reference}']")
    expect(row).to_contain_text("in progress (Alex)")
    expect(row.locator(".followup-flag")).to_have_text("caller answered")
    assert_accessible(handler, "my reports, with a report the caller answered")
    # And when they open it, it is flagged as answered, no longer awaiting the caller
    row.get_by_role("link", name=report_reference).click()
    expect(followup.status).to_have_text("Answered by the caller.")
    expect(followup.section).not_to_contain_text("Awaiting caller")
    expect(followup.section.locator(".followup-question")).to_contain_text("Answered on")
    # And they play the answer in the same report: its player loads the audio
    played = followup.play_answer()
    assert played.status in (200, 206)
    assert played.headers["content-type"].startswith("audio/")
    within(lambda: followup.answer_duration() > 0, "the answer's player reads the audio")
    # (the answer, not the report: the answer sample is about 8 s, the report 18 s)
    assert 4 < followup.answer_duration() < 12
    fetched = handler.context.request.get(played.url)
    assert fetched.status == 200 and fetched.body()[:4] == b"RIFF" and len(fetched.body()) > 10_000
    assert_accessible(handler, "the report page with the caller's answer")

    # And, with every recording and call log erased at Twilio,
    within(
        lambda: (
            not hotline.emulator.state.recordings and len(hotline.emulator.state.deleted_calls) == 2
        ),
        "Twilio's copies erased",
    )
    metrics = hotline.metrics()
    assert "ivr_followup_failed_attempts_this_hour" in metrics
    # no caller identifier exists anywhere: not in any row of any table,
    dump = dump_database(hotline.db)
    assert "followup_answers: (" in dump and PIN not in dump
    for trace in [*TRACES, reference]:
        assert trace not in dump, trace
    # nor in any log line of the service (the emulator, Twilio's stand-in, runs in this
    # process and writes nothing), nor in /metrics,
    logged = (hotline.folder / "server.log").read_text()
    assert "followup.verified" in logged and "followup.answered" in logged
    for trace in [*TRACES, reference]:
        assert trace not in logged, trace
        assert trace not in metrics, trace
    # nor in any file the service wrote: database, object store, spool, outbox, anchors
    written = list(files_written(hotline.folder))
    assert any(path.suffix == ".sqlite3" for path, _ in written)
    assert any("recordings" in path.parts for path, _ in written)
    for path, content in written:
        for trace in [*TRACES, reference]:
            assert trace.encode() not in content, f"{trace} found in {path}"
