"""The console's signed-in clients, for the follow-up's console tests."""

from tests.console.conftest import as_role, staff  # noqa: F401 - fixtures
