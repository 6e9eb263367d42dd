"""Old rows that quote what cleaning removed keep only its kinds after upgrading.

The migration's rewriting is tested line by line here; ``tests/test_migrations.py`` runs
it on both databases, down and up.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ivr.platform import migrate

MIGRATION = Path(migrate.MIGRATIONS_DIR) / "versions" / "0016_removed_by_kind.py"


def _kinds_only(removed: str) -> str:
    spec = importlib.util.spec_from_file_location("removed_by_kind", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: str = module.kinds_only(removed)
    return result


def test_an_ogg_files_tag_values_are_rewritten_as_kinds() -> None:
    old = "tag ('artist', 'Jane Whistleblower')\ntag ('comment', 'recorded at 14 Acacia Avenue BH1 1AA')"
    assert _kinds_only(old) == "tags"


def test_kinds_named_from_a_fixed_list_stay_and_a_pdfs_are_renamed() -> None:
    assert _kinds_only("GPS position\ncamera serial number") == "GPS position\ncamera serial number"
    assert _kinds_only("document author\ndocument creationdate\nXMP metadata") == (
        "author\ncreation date\nXMP metadata"
    )
    assert _kinds_only("LIST information") == "tags"
    assert _kinds_only("Jane Whistleblower") == "other details"
