"""A flow's diagram shows its text as text: nothing in a flow file can add a link to it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ivr.flows.diagram import to_dot, to_svg
from ivr.flows.loader import load_flow_text
from tests.flows.test_validation import SMALL_FLOW

INJECTION = 'x"] [URL="javascript:alert(1)", target="_top'

WITH_GOTO = (
    SMALL_FLOW.replace(
        "steps:\n",
        f"categories:\n  '{INJECTION}': A category whose name tries to add a link\nsteps:\n",
    )
    .replace(
        '"1": record',
        '"1": choose',
    )
    .replace(
        "  record:\n",
        f"""  choose:
    type: goto
    cases:
      - when: {{ category: '{INJECTION}' }}
        next: record
    next: record
  record:
""",
    )
)


def test_text_from_the_flow_cannot_add_attributes_to_the_diagram(tmp_path: Path) -> None:
    # Given a flow whose category's name tries to close its label and add a link
    flow = load_flow_text(WITH_GOTO, "small.yaml", tmp_path).flow
    dot = to_dot(flow)
    # Then the DOT keeps it inside one quoted label
    assert 'label="category=x\\"] [URL=\\"javascript:alert(1)\\", target=\\"_top"' in dot
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: apt-get install graphviz")
    # And Graphviz draws it as text, with no link anywhere
    svg = to_svg(flow).decode()
    assert "href" not in svg and "<a " not in svg
    assert "javascript:alert(1)" in svg  # shown, harmlessly, as the label's text


def test_a_step_shows_the_start_of_its_prompt_wrapped_in_short_lines() -> None:
    """Given the national flow, when it is drawn, then no label line is longer than
    LINE_CHARS (a long one widened the whole drawing until it had to be shrunk to fit),
    and a prompt too long for its box ends in an ellipsis at a word."""
    from ivr.flows.diagram import LINE_CHARS, PROMPT_LINES
    from tests.flows.test_validation import HOTLINE

    flow = load_flow_text(HOTLINE.read_text(), "hotline.yaml", HOTLINE.parent).flow
    dot = to_dot(flow)
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)
    welcome = next(label for label in labels if label.startswith("welcome\\n"))
    lines = welcome.split("\\n")
    assert lines[:2] == ["welcome", "(menu)"] and len(lines) == 2 + PROMPT_LINES
    assert lines[-1].endswith("…") and not lines[-1].endswith(" …")
    for label in labels:
        for line in label.split("\\n"):
            assert len(line) <= max(LINE_CHARS, len("anonymity_choice_followup")), line
    assert "fontsize=11" in dot
