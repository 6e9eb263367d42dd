"""The console's signed-in clients and a queued report, for the statistics' tests."""

from tests.console.conftest import as_role, queued_report, staff  # noqa: F401 - fixtures
