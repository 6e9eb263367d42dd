"""Draw a flow as a graph: steps as boxes, key presses on the arrows, fallbacks dashed.

The DOT text is drawn by Graphviz's ``dot`` program. Every id and label comes from a
flow file the ops team edits, so each is written as a quoted DOT string with its quotes
and backslashes escaped: no text in a flow can add an attribute (a ``URL`` that becomes a
``javascript:`` link in the SVG, say) or end the graph.
"""

from __future__ import annotations

import shutil
import subprocess

from ivr.flows.schema import ConfirmStep, Flow, GotoStep, HangupStep, MenuStep, RecordStep, SayStep

SHAPES = {
    SayStep: "box",
    MenuStep: "box3d",
    ConfirmStep: "box3d",
    RecordStep: "cylinder",
    HangupStep: "doubleoctagon",
    GotoStep: "diamond",
}


class DiagramUnavailable(RuntimeError):
    """Graphviz's dot is not installed here."""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _quote(*lines: str) -> str:
    """Return ``lines`` as one quoted DOT string, a line each."""
    return '"' + "\\n".join(_escape(line) for line in lines) + '"'


def _first_words(flow: Flow, step: object) -> str:
    prompt = getattr(step, "prompt", None)
    if not prompt:
        return ""
    first = prompt[flow.default_language][0]
    text = (
        first
        if isinstance(first, str)
        else getattr(first, "say", None) or getattr(first, "text", "") or "(audio)"
    )
    words = " ".join(str(text).split()[:7])
    return words + ("…" if len(str(text).split()) > 7 else "")


def to_dot(flow: Flow) -> str:
    """Return the flow as Graphviz DOT text."""
    lines = [
        f"digraph {_quote(flow.name)} {{",
        '  rankdir=TB; node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  start [shape=circle, label="call"];',
        f"  start -> {_quote(flow.start)};",
    ]
    for name, step in flow.steps.items():
        words = _first_words(flow, step)
        label = _quote(name, f"({step.type})", *([words] if words else []))
        lines.append(f"  {_quote(name)} [shape={SHAPES[type(step)]}, label={label}];")
        lines += [f"  {edge}" for edge in _edges(name, step)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edges(name: str, step: object) -> list[str]:
    src = _quote(name)
    if isinstance(step, SayStep):
        return [f"{src} -> {_quote(step.next)};"]
    if isinstance(step, MenuStep | ConfirmStep):
        edges = [
            f"{src} -> {_quote(option.next)} [label={_quote(f'press {key}')}];"
            for key, option in step.options.items()
        ]
        fallback = step.otherwise if isinstance(step, MenuStep) else step.fallback
        edges.append(
            f"{src} -> {_quote(fallback)} [style=dashed, label={_quote(f'no key x{step.retries + 1}')}];"
        )
        return edges
    if isinstance(step, RecordStep):
        return [
            f"{src} -> {_quote(step.next)} [label={_quote('recorded')}];",
            f"{src} -> {_quote(step.otherwise)} [style=dashed, label={_quote(f'nothing said x{step.retries + 1}')}];",
        ]
    if isinstance(step, GotoStep):
        edges = [
            f"{src} -> {_quote(case.next)} [label={_quote(' & '.join(f'{k}={v}' for k, v in case.when.items()))}];"
            for case in step.cases
        ]
        return [*edges, f"{src} -> {_quote(step.next)} [label={_quote('otherwise')}];"]
    return []


def to_svg(flow: Flow) -> bytes:
    """Draw the flow as SVG with Graphviz's dot."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramUnavailable("Graphviz is not installed: apt-get install graphviz")
    result = subprocess.run(  # noqa: S603 - dot from PATH, fixed arguments, DOT text on stdin
        [dot, "-Tsvg"], input=to_dot(flow).encode(), capture_output=True, timeout=30, check=False
    )
    if result.returncode != 0:
        raise DiagramUnavailable(f"dot failed: {result.stderr.decode(errors='replace')[:300]}")
    return result.stdout
