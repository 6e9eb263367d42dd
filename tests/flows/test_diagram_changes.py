"""A draft's diagram marks what it changes from the published version."""

from __future__ import annotations

from ivr.flows.diagram import Changes, changes, to_dot
from ivr.flows.loader import load_flow_text
from tests.conftest import REPO

HOTLINE = (REPO / "call_flows" / "hotline.yaml").read_text()


def test_changed_and_added_steps_are_drawn_apart_with_a_legend() -> None:
    # Given the published flow, and a draft that rewords the thanks and adds a step
    published = load_flow_text(HOTLINE, "hotline.yaml", REPO / "call_flows").flow
    text = HOTLINE.replace("concerned. Goodbye.", "concerned. Take care.", 1).replace(
        "  thanks:\n    type: hangup\n",
        "  thanks:\n    type: say\n    next: farewell\n",
        1,
    )
    text = text.replace(
        "  nothing_recorded:\n",
        "  farewell:\n    type: hangup\n    prompt:\n      en-GB: Goodbye.\n"
        "      cy-GB: Hwyl fawr.\n\n  nothing_recorded:\n",
        1,
    )
    draft = load_flow_text(text, "hotline.yaml", REPO / "call_flows").flow
    # Then the changes name them
    change = changes(published, draft)
    assert change == Changes(added=("farewell",), changed=("thanks",), removed=())
    # and the diagram fills them differently, not by colour alone, with a legend
    dot = to_dot(draft, against=published)
    thanks = next(line for line in dot.splitlines() if line.startswith('  "thanks" ['))
    farewell = next(line for line in dot.splitlines() if line.startswith('  "farewell" ['))
    assert 'style="filled,dashed"' in thanks and 'style="filled,bold"' in farewell
    assert "cluster_legend" in dot and "changed step" in dot and "added step" in dot
    # while unchanged steps and the published flow's own drawing are plain
    welcome = next(line for line in dot.splitlines() if line.startswith('  "welcome" ['))
    assert "filled" not in welcome and "cluster_legend" not in to_dot(published)


def test_removed_steps_are_listed_in_the_legend() -> None:
    published = load_flow_text(HOTLINE, "hotline.yaml", REPO / "call_flows").flow
    steps = dict(published.steps)
    kept = {name: step for name, step in steps.items() if name != "nothing_recorded"}
    draft = published.model_copy(update={"steps": kept})
    assert changes(published, draft).removed == ("nothing_recorded",)
    assert "removed steps:\\nnothing_recorded" in to_dot(draft, against=published)
