"""The console's fixtures (staff, signed-in clients), for online reports worked in the console."""

from tests.console.conftest import as_role, staff  # noqa: F401 - fixtures by name
