"""Rotating the key that seals a call's state in its URLs loses no call under way.

A caller taking a follow-up reference keys a PIN twice: between the two, the first PIN
travels sealed in the callback URL. Here the key changes between them: the first answer
comes from a process with the old key, the rest from one given the new key (the old one
kept as previous), as during a rolling restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest
from flask import Flask

from ivr.app import create_app
from ivr.cli.calls import AppTransport
from ivr.config import Config, ConfigError
from ivr.dev.phone import CallLog, Phone, PhoneError, scripted_keys
from ivr.platform.db import Database
from ivr.services import services
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, SAMPLES, Caller
from tests.followup.test_followup_calls import REPORT_THEN_REFERENCE, heard

OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32


class RollingRestart(AppTransport):
    """One call's requests: to the old process until its state is sealed, then the new."""

    def __init__(self, before: Flask, after: Flask) -> None:
        super().__init__(before.test_client())
        self._after = after.test_client()
        self.moved_with_sealed_state = False

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        body = super().post(url, params, signature)
        if not self.moved_with_sealed_state and "&amp;s=" in body:  # a sealed state
            self._client, self.moved_with_sealed_state = self._after, True
        return body


def call_across(before: Flask, after: Flask) -> tuple[CallLog, RollingRestart]:
    transport = RollingRestart(before, after)
    phone = Phone(
        transport,
        Caller(before).media,
        public_base=services(before).config.public_base,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=scripted_keys(REPORT_THEN_REFERENCE),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    )
    return phone.call(), transport


def edge(config: Config, db: Database, **keys: bytes) -> Flask:
    return create_app(dataclasses.replace(config, **keys), db=db)  # type: ignore[arg-type]


def test_a_call_begun_under_the_old_key_finishes_under_the_new(
    config: Config, db: Database
) -> None:
    # Given the edge sealed with the old key, and the new build given the new key and the old
    before = edge(config, db, url_state_key=OLD_KEY)
    after = edge(config, db, url_state_key=NEW_KEY, url_state_previous_key=OLD_KEY)
    # When a caller keys their PIN on the old process and confirms it on the new one
    log, transport = call_across(before, after)
    # Then the call goes on as if nothing happened: the reference is given
    assert transport.moved_with_sealed_state
    assert "Your follow-up reference is ready" in heard(log)


def test_without_the_old_key_the_same_call_would_be_lost(config: Config, db: Database) -> None:
    # What the key ring prevents: a new process that knows only the new key
    before = edge(config, db, url_state_key=OLD_KEY)
    after = edge(config, db, url_state_key=NEW_KEY, url_state_previous_key=b"x" * 32)
    try:
        log, _ = call_across(before, after)
    except PhoneError:
        return
    assert "Your follow-up reference is ready" not in heard(log)


def test_switching_from_the_derived_key_keeps_calls_too(config: Config, db: Database) -> None:
    # A deployment that never set IVR_URL_STATE_KEY seals with a key derived from
    # IVR_SECRET_KEY; giving it its own key keeps the derived one as the previous.
    before = edge(config, db)
    after = edge(config, db, url_state_key=NEW_KEY)
    log, transport = call_across(before, after)
    assert transport.moved_with_sealed_state
    assert "Your follow-up reference is ready" in heard(log)


def test_url_state_keys_are_long_and_the_previous_needs_a_new_one(config: Config) -> None:
    with pytest.raises(ConfigError, match="IVR_URL_STATE_KEY must hold at least 32 bytes"):
        dataclasses.replace(config, url_state_key=b"short")
    with pytest.raises(ConfigError, match="needs IVR_URL_STATE_KEY"):
        dataclasses.replace(config, url_state_previous_key=OLD_KEY)
