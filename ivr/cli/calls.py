"""``ivr call`` and ``ivr flows simulate``: walk a call without a phone."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import Config
from ivr.dev.phone import (
    DEFAULT_CALLER,
    EmulatorMedia,
    HeldMedia,
    HttpTransport,
    Phone,
    PhoneError,
    keyboard_keys,
    scripted_keys,
)
from ivr.models.flows import Announcement
from ivr.platform.db import Base, Database

KEYS_HELP = (
    "Keys to press in order, e.g. 1,1,2,#. An empty entry presses nothing (a timeout); "
    "'hangup' hangs up. At a recording, '#' finishes and nothing after the list hangs up. "
    "Without --keys you are asked for each key."
)


def _audio(path: Path | None) -> bytes:
    if path is not None:
        return path.read_bytes()
    return resources.files("ivr").joinpath("samples/report-en.wav").read_bytes()


def _keys(script: str | None) -> Callable[[tuple[str, ...]], str | None]:
    if script is None:
        return keyboard_keys(lambda prompt: click.prompt(prompt, default="", show_default=False))
    return scripted_keys(script)


@click.command()
@click.option("--keys", default=None, help=KEYS_HELP)
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="WAV file to speak at a recording (default: a short sample report).",
)
@click.option("--url", default=None, help="Base URL of the service (default: IVR_PUBLIC_URL).")
@click.option(
    "--caller",
    default=DEFAULT_CALLER,
    show_default=True,
    help="The number the call appears to come from (it must never be kept).",
)
@click.option(
    "--twilio-api-url",
    default=None,
    help="Where the Twilio emulator keeps recordings (default: IVR_TWILIO_API_URL, or "
    "make run's emulator at http://127.0.0.1:8010 when calling a service on this machine).",
)
@pass_runtime
def call(
    runtime: Runtime,
    keys: str | None,
    audio: Path | None,
    url: str | None,
    caller: str,
    twilio_api_url: str | None,
) -> None:
    """Call a running service as Twilio would, and print what the caller hears."""
    config = runtime.config
    target = url or config.public_base
    phone = Phone(
        HttpTransport(),
        EmulatorMedia(twilio_api_url or _emulator_for(target, config)),
        public_base=target,
        account_sid=config.twilio_account_sid,
        auth_token=config.twilio_auth_token,
        keys=_keys(keys),
        audio=_audio(audio),
        caller=caller,
        show=click.echo,
    )
    try:
        log = phone.call()
    except (PhoneError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Recordings made: {len(log.recordings)}")


DEV_EMULATOR = "http://127.0.0.1:8010"


def _emulator_for(target: str, config: Config) -> str:
    """The emulator the service uses: as configured, or make run's own for a local service.

    A second terminal does not inherit the IVR_TWILIO_API_URL that `make run` sets.
    """
    if "IVR_TWILIO_API_URL" in os.environ:  # the command line is the edge: read it here
        return config.twilio_api_url
    local = urlsplit(target).hostname in {"127.0.0.1", "localhost", "::1"}
    return DEV_EMULATOR if local else config.twilio_api_url


class AppTransport:
    """Deliver the phone's requests to an app in this process, as Twilio would over HTTP."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self._client.post(
            path, data=dict(params), headers={"X-Twilio-Signature": signature}
        )
        if response.status_code >= 400:
            raise PhoneError(f"{parts.path} answered HTTP {response.status_code}")
        return response.get_data(as_text=True)


def _announcements(url: str) -> list[Announcement]:
    """Copies of the service announcements in the service's database, if it has any."""
    if url.startswith("sqlite"):
        file = make_url(url).database
        if not file or not Path(file).is_file():
            return []  # no database here yet, and reading one must not create it
    database = Database.from_url(url)
    try:
        with database.reading() as session:
            columns = [column.key for column in Announcement.__table__.columns]
            return [
                Announcement(**{column: getattr(row, column) for column in columns})
                for row in session.scalars(select(Announcement))
            ]
    except SQLAlchemyError as error:
        click.echo(
            "(The service's database could not be read, so no announcement is played: "
            f"{type(error).__name__}.)",
            err=True,
        )
        return []
    finally:
        database.engine.dispose()


@click.command()
@click.argument("flow")
@click.option("--keys", default=None, help=KEYS_HELP)
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="WAV file to speak at a recording (default: a short sample report).",
)
@pass_runtime
def simulate(runtime: Runtime, flow: str, keys: str | None, audio: Path | None) -> None:
    """Walk FLOW (a name under call_flows/ or a file) offline and print the transcript."""
    from ivr.app import create_app
    from ivr.flows.loader import FlowInvalid

    base = runtime.config
    path = Path(flow) if flow.endswith((".yaml", ".yml")) else base.flows_dir / f"{flow}.yaml"
    # A throwaway in-memory database: nothing from a simulation is kept.
    config = dataclasses.replace(
        base,
        database_url="sqlite://",
        flow=str(path),
        log_level="WARNING",
        public_url="http://simulated.invalid",
    )
    database = Database.from_url(config.database_url)
    Base.metadata.create_all(database.engine)
    # Callers hear the service announcement the ops team has switched on: so does this.
    with database.transaction() as session:
        session.add_all(_announcements(base.database_url))
    try:
        app = create_app(config, db=database)
    except FlowInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    phone = Phone(
        AppTransport(app.test_client()),
        HeldMedia(config.twilio_account_sid),
        public_base=config.public_base,
        account_sid=config.twilio_account_sid,
        auth_token=config.twilio_auth_token,
        keys=_keys(keys),
        audio=_audio(audio),
        show=click.echo,
    )
    phone.call()
