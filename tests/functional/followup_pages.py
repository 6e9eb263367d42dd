"""The follow-up story's actors: a caller on a phone over HTTP, and the report page's section."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, Response, expect

from ivr.dev.phone import CallLog, EmulatorMedia, HttpTransport, Phone, scripted_keys
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, SAMPLES


class KeepingTransport(HttpTransport):
    """Twilio's side of the line over HTTP, keeping every TwiML document the service answers."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.twiml: list[str] = []

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        body = super().post(url, params, signature)
        self.twiml.append(body)
        return body


@dataclass
class PhoneCall:
    """One call: what the caller heard, and the TwiML the service sent to say it."""

    log: CallLog
    twiml: list[str] = field(default_factory=list)

    def heard(self) -> str:
        return self.log.text()

    def said(self) -> list[str]:
        """The text of every ``<Say>`` in the service's TwiML, as Twilio would speak it."""
        return [
            re.sub(r"\s+", " ", text).strip()
            for body in self.twiml
            for text in re.findall(r"<Say[^>]*>(.*?)</Say>", body, re.DOTALL)
        ]

    def reference(self) -> str:
        """The follow-up reference read to the caller (digits spoken in groups)."""
        spoken = next(text for _, text in self.log.heard if re.fullmatch(r"[0-9., ]{20,}", text))
        return re.sub(r"\D", "", spoken)


class PhoneCaller:
    """A caller with a planted number, dialling the service as Twilio carries a call."""

    def __init__(self, base: str, emulator_url: str, number: str = PLANTED_NUMBER) -> None:
        self.base, self.emulator_url, self.number = base, emulator_url, number

    def call(self, keys: str, audio: str = "report-en.wav") -> PhoneCall:
        transport = KeepingTransport()
        log = Phone(
            transport,
            EmulatorMedia(self.emulator_url, timeout=60),
            public_base=self.base,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            keys=scripted_keys(keys),
            audio=(SAMPLES / audio).read_bytes(),
            caller=self.number,
        ).call()
        return PhoneCall(log, transport.twiml)


class FollowUpSection:
    """The report page's "Follow-up with the caller" section."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.section = page.locator("#followup")
        self.status = page.locator("#followup-status")

    def ask(self, question: str) -> None:
        self.page.fill("#followup-question", question)
        self.page.click("#followup-ask")
        expect(self.page.locator(".flash")).to_contain_text("The question awaits the caller.")

    def questions(self) -> list[str]:
        return [text.strip() for text in self.section.locator(".question-text").all_inner_texts()]

    @property
    def answer_player(self) -> Locator:
        return self.section.get_by_label("The caller's answer 1", exact=True)

    def play_answer(self) -> Response:
        """Play the caller's answer; return the response to the player's first audio request."""
        player = self.answer_player
        source = str(player.get_attribute("src"))
        with self.page.expect_response(lambda r: r.url.endswith(source)) as loaded:
            player.evaluate("a => a.play()")
        return loaded.value

    def answer_duration(self) -> float:
        """The answer's length in seconds, once the player has read it (0 until then)."""
        return float(self.answer_player.evaluate("a => isFinite(a.duration) ? a.duration : 0"))
