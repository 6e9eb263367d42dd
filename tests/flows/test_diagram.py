"""A flow's diagram shows its text as text: nothing in a flow file can add a link to it."""

from __future__ import annotations

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
