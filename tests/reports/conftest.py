"""The console's signed-in clients and queued report, for retention's end-to-end tests."""

from tests.console.conftest import as_role, queued_report, staff  # noqa: F401 - fixtures
