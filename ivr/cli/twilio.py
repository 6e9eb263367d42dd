"""``ivr twilio provision``: set up the hotline's phone number at Twilio from the config."""

from __future__ import annotations

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.outside.twilio_api import (
    InvalidPhoneNumber,
    PhoneNumberNotFound,
    SettingDifference,
    TwilioUnavailable,
    UnusablePublicUrl,
    compare,
    hotline_settings,
)


@click.group()
def twilio() -> None:
    """Manage the hotline's phone number at Twilio."""


@twilio.command()
@click.argument("number")
@click.option("--check", is_flag=True, help="Only report drift (exit status 1 if any).")
@pass_runtime
def provision(runtime: Runtime, number: str, check: bool) -> None:
    """Point NUMBER's Voice URL, fallback and status callback at IVR_PUBLIC_URL.

    NUMBER is in international form, spaces allowed: "+44 800 011 2233".
    """
    config = runtime.config
    try:
        wanted = hotline_settings(config.public_url, config.twilio_api_url)
        api = runtime.services.twilio
        found = api.incoming_number(number)
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
