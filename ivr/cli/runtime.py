"""What every command works with: the config, read once, and the services built from it.

``ivr`` puts one ``Runtime`` on click's context; a command takes it with
``@pass_runtime``. Tests hand commands their own config with
``CliRunner().invoke(main, args, obj=Runtime(config))``.
"""

from __future__ import annotations

from functools import cached_property

import click

from ivr.config import Config
from ivr.platform.logs import configure_logging
from ivr.services import Services


class Runtime:
    def __init__(self, config: Config | None = None) -> None:
        self._given = config

    @cached_property
    def config(self) -> Config:
        """The process's config (from the environment unless one was given)."""
        return self._given or Config.from_env()

    @cached_property
    def services(self) -> Services:
        configure_logging(self.config.log_level)
        return Services(self.config)


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)
