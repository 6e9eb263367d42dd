"""``ivr twilio provision``: set up the hotline's phone number at Twilio from the config."""

from __future__ import annotations

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import ConfigError
from ivr.outside.fallback_site import SiteUnavailable
from ivr.outside.twilio_api import (
    InvalidPhoneNumber,
    PhoneNumberNotFound,
    SettingDifference,
    TwilioUnavailable,
    UnusablePublicUrl,
    compare,
    hotline_settings,
)
from ivr.services import fallback_site
from ivr.telephony import static_fallback


@click.group()
def twilio() -> None:
    """Manage the hotline's phone number at Twilio."""


@twilio.command()
@click.argument("number")
@click.option("--check", is_flag=True, help="Only report drift (exit status 1 if any).")
@pass_runtime
def provision(runtime: Runtime, number: str, check: bool) -> None:
    """Point NUMBER's Voice URL and status callback at IVR_PUBLIC_URL, and its fallback
    at the static fallback served from IVR_FALLBACK_URL (or, without one, at the edge).

    NUMBER is in international form, spaces allowed: "+44 800 011 2233".
    """
    config = runtime.config
    try:
        entry = static_fallback.entry_url(config.fallback_url) if config.fallback_url else ""
        wanted = hotline_settings(config.public_url, config.twilio_api_url, entry)
        api = runtime.services.twilio
        found = api.incoming_number(number)
        if found.trunk_sid:
            raise click.ClickException(
                f"{found.phone_number} is on SIP trunk {found.trunk_sid}: Twilio ignores its "
                "voice URLs and sends every call to the trunk, so callers would never reach "
                "the hotline. Remove the number from the trunk (Twilio console: Elastic SIP "
                "Trunking, the trunk's Numbers), then run this again."
            )
        differences = compare(found.settings, wanted)
        drift = [difference for difference in differences if difference.changed]
        if check:
            click.echo(f"{found.phone_number} ({found.sid}):")
            for difference in differences:
                click.echo(_drift_line(difference))
            if drift:
                click.echo(f"{len(drift)} setting(s) drifted: run without --check to set them.")
                raise click.exceptions.Exit(1)
            click.echo("In line with IVR_PUBLIC_URL.")
            return
        if drift:
            found = api.configure_number(found.sid, wanted)
        settled = compare(found.settings, wanted)
    # TwilioUnavailable covers TwilioAuthFailed: a wrong token says so, and which variable.
    except (UnusablePublicUrl, InvalidPhoneNumber, PhoneNumberNotFound, TwilioUnavailable) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{found.phone_number} ({found.sid}):")
    for difference in differences:
        click.echo(_change_line(difference))
    if any(difference.changed for difference in settled):
        raise click.ClickException("Twilio did not keep every setting: run --check to see which")
    click.echo(f"{len(drift)} setting(s) changed." if drift else "Nothing to change.")


def _change_line(difference: SettingDifference) -> str:
    if not difference.changed:
        return f"  {difference.name}: unchanged"
    return f"  {difference.name}: {_shown(difference.current)} -> {_shown(difference.wanted)}"


def _drift_line(difference: SettingDifference) -> str:
    if not difference.changed:
        return f"  {difference.name}: in line"
    return (
        f"  {difference.name}: drift: is {_shown(difference.current)}, "
        f"should be {_shown(difference.wanted)}"
    )


def _shown(value: str) -> str:
    return value or "(empty)"


@twilio.group()
def fallback() -> None:
    """The static fallback that takes reports while the edge is down."""


@fallback.command()
@pass_runtime
def publish(runtime: Runtime) -> None:
    """Write the static fallback's documents to IVR_FALLBACK_SITE."""
    config = runtime.config
    documents = static_fallback.documents()
    try:
        fallback_site(config).publish(documents)
    except (ConfigError, SiteUnavailable) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Published the static fallback, version {static_fallback.version(documents)}: "
        f"{len(documents)} documents to {config.fallback_site}."
    )
    if config.fallback_url:
        click.echo(f"Served at {static_fallback.entry_url(config.fallback_url)}")
        click.echo("Run `ivr twilio provision NUMBER` if the number does not point there yet.")
    else:
        click.echo("Set IVR_FALLBACK_URL to where it is served, then run `ivr twilio provision`.")


@fallback.command()
@click.argument("name", required=False)
def show(name: str | None) -> None:
    """Print the documents (or the one named), as Twilio will fetch them."""
    documents = static_fallback.documents()
    if name is not None and name not in documents:
        raise click.ClickException(f"no document {name!r}: the set is {', '.join(documents)}")
    for found, body in documents.items():
        if name in (None, found):
            click.echo(f"--- {found}")
            click.echo(body.decode())
