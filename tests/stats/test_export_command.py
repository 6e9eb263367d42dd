"""``ivr stats export``: what a force's or a commissioner's office asks the charity for."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main
from ivr.cli.runtime import Runtime
from ivr.config import Config
from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import Database
from ivr.stats.counters import count


def test_a_forces_year_is_exported_with_its_small_cells_withheld(
    config: Config, db: Database, tmp_path: Path
) -> None:
    # Given a year in which Dorset had 7 reports in March and 1 in June, and Kent 30
    with db.transaction() as session:
        for force, day, times in (
            ("Dorset Police", date(2027, 3, 2), 7),
            ("Dorset Police", date(2027, 6, 30), 1),
            ("Kent Police", date(2027, 3, 2), 30),
        ):
            for _ in range(times):
                count(
                    session,
                    StatEvent.DISSEMINATED,
                    day,
                    channel=Channel.PHONE,
                    category="drugs",
                    force=force,
                    days=4,
                )
    target = tmp_path / "dorset-2027.csv"
    # When the charity exports Dorset's year
    result = CliRunner().invoke(
        main,
        ["stats", "export", "--force", "Dorset Police", "--from", "2027-01", "--to", "2027-12",
         "--output", str(target)],
        obj=Runtime(config),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "to " + str(target) in result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    monthly = {
        r["period"]: r["value"]
        for r in rows
        if r["measure"] == "Reports passed to a force" and r["breakdown"] == "all"
    }
    # Then every month is there; June's lone report is withheld, and so is March's
    # (or the year's 8 would give June's away); quiet months read 0; Kent is not in it
    assert len(monthly) == 13
    assert monthly["2027-06"] == "[c]" and monthly["2027-03"] == "[c]"
    assert monthly["2027-01"] == "0" and monthly["2027-01 to 2027-12"] == "8"
    assert not any("Kent" in ",".join(r.values()) for r in rows)
    # and nothing counted without a force (received, calls) pretends to be Dorset's
    assert {r["measure"] for r in rows}.isdisjoint({"Reports received"})


def test_a_month_that_is_not_one_is_refused_in_words(config: Config) -> None:
    result = CliRunner().invoke(
        main, ["stats", "export", "--from", "2027-1", "--to", "2027-12"], obj=Runtime(config)
    )
    assert result.exit_code == 2
    assert "'2027-1' is not a month: write it as 2027-03" in result.output
    assert "Traceback" not in result.output


def test_a_force_that_is_not_one_is_refused_with_where_to_look(
    config: Config, db: Database
) -> None:
    args = ["stats", "export", "--force", "Dorset", "--from", "2027-01", "--to", "2027-12"]
    result = CliRunner().invoke(main, args, obj=Runtime(config))
    assert result.exit_code == 2
    assert "no force is called 'Dorset' (`ivr forces list` names them)" in result.output
