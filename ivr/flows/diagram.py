"""Draw a flow as a graph: steps as boxes, key presses on the arrows, fallbacks dashed.

The DOT text is drawn by Graphviz's ``dot`` program. Every id and label comes from a
flow file the ops team edits, so each is written as a quoted DOT string with its quotes
and backslashes escaped: no text in a flow can add an attribute (a ``URL`` that becomes a
``javascript:`` link in the SVG, say) or end the graph.

Drawn against the published version, a draft shows what it changes: added steps filled
green with a bold border, changed steps filled amber with a dashed border (told apart
by more than colour), a legend, and the steps it removes listed in the legend.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from typing import assert_never

from ivr.flows.schema import (
    CollectStep,
    ConfirmStep,
    Flow,
    GotoStep,
    HangupStep,
    MenuStep,
    QuestionStep,
    RecordStep,
    ReferenceStep,
    RegisterStep,
    SayStep,
    Step,
    VerifyStep,
    prompt_of,
    prompt_text,
)

# An arrow out of a step: where it leads, its label, and whether it is a fallback.
Arrow = tuple[str, str, bool]


class DiagramUnavailable(RuntimeError):
    """Graphviz's dot is not installed here."""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _quote(*lines: str) -> str:
    """Return ``lines`` as one quoted DOT string, a line each."""
    return '"' + "\\n".join(_escape(line) for line in lines) + '"'


# A step's box shows the start of what callers hear, wrapped (not one long line that
# makes the box, and so the whole drawing, too wide to read at its own size).
LINE_CHARS = 30
PROMPT_LINES = 3


def _first_words(flow: Flow, step: Step) -> list[str]:
    """The start of the step's prompt, as at most PROMPT_LINES lines of LINE_CHARS."""
    prompt = prompt_of(step)
    if not prompt:
        return []
    text = " ".join(prompt_text(prompt[flow.default_language]).split())
    lines = textwrap.wrap(text, LINE_CHARS, break_long_words=True)
    if len(lines) <= PROMPT_LINES:
        return lines
    shown = lines[:PROMPT_LINES]
    last = textwrap.shorten(shown[-1] + " " + lines[PROMPT_LINES], LINE_CHARS - 1, placeholder="")
    return [*shown[:-1], last.rstrip(" ,.;:") + "…"]


def _shape_and_arrows(step: Step) -> tuple[str, list[Arrow]]:
    """Return the shape ``step`` is drawn as, and its arrows."""
    match step:
        case SayStep():
            return "box", [(step.next, "", False)]
        case MenuStep() | ConfirmStep():
            keys = [(option.next, f"press {key}", False) for key, option in step.options.items()]
            return "box3d", [*keys, (step.fallback, f"no key x{step.retries + 1}", True)]
        case RecordStep():
            return "cylinder", [
                (step.next, "recorded", False),
                (step.otherwise, f"nothing said x{step.retries + 1}", True),
            ]
        case HangupStep():
            return "doubleoctagon", []
        case GotoStep():
            cases = [
                (case.next, " & ".join(f"{k}={v}" for k, v in case.when.items()), False)
                for case in step.cases
            ]
            return "diamond", [*cases, (step.next, "otherwise", False)]
        case CollectStep():
            return "box3d", [
                (step.next, f"{step.min_digits}-{step.max_digits} digits into {step.into}", False),
                (step.otherwise, f"none x{step.retries + 1}", True),
            ]
        case ReferenceStep():
            return "note", [(step.next, "", False)]
        case RegisterStep():
            return "hexagon", [
                (step.next, "kept", False),
                (step.mismatch, "PINs differ", True),
                (step.otherwise, "not kept", True),
            ]
        case VerifyStep():
            return "hexagon", [(step.next, "right", False), (step.otherwise, "wrong", True)]
        case QuestionStep():
            return "note", [(step.next, "", False)]
        case _:
            assert_never(step)


def _arrow(source: str, target: str, label: str, dashed: bool) -> str:
    attributes = (["style=dashed"] if dashed else []) + (
        [f"label={_quote(label)}"] if label else []
    )
    return f"{_quote(source)} -> {_quote(target)}" + (
        f" [{', '.join(attributes)}];" if attributes else ";"
    )


@dataclass(frozen=True)
class Changes:
    """What a flow changes in its steps, compared with another (the published one)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def changes(before: Flow, after: Flow) -> Changes:
    """Return the steps ``after`` adds, changes and removes compared with ``before``."""
    return Changes(
        added=tuple(name for name in after.steps if name not in before.steps),
        changed=tuple(
            name
            for name, step in after.steps.items()
            if name in before.steps and step != before.steps[name]
        ),
        removed=tuple(name for name in before.steps if name not in after.steps),
    )


# How a changed step is drawn: not by colour alone, for people who cannot tell them apart.
ADDED = 'style="filled,bold", fillcolor="#c8f0c8", penwidth=2'
CHANGED = 'style="filled,dashed", fillcolor="#ffe0a0", penwidth=2'


def _legend(change: Changes) -> list[str]:
    removed = ", ".join(change.removed) if change.removed else "none"
    return [
        "  subgraph cluster_legend {",
        '    label="Changes from the published version"; fontname="DejaVu Sans"; fontsize=11;',
        f'    _legend_added [shape=box, label="added step", {ADDED}];',
        f'    _legend_changed [shape=box, label="changed step", {CHANGED}];',
        f"    _legend_removed [shape=note, label={_quote('removed steps:', removed)}];",
        "  }",
    ]


def to_dot(flow: Flow, against: Flow | None = None) -> str:
    """Return the flow as Graphviz DOT text, its changes marked if drawn ``against`` another."""
    change = changes(against, flow) if against is not None else Changes()
    # Drawn to be shown at its own size (1 pt = 1.33 px), in a frame that scrolls: 11 pt
    # is about 15 px on screen, 10 pt about 13 px. DejaVu Sans is the font the
    # server measures with (fonts-dejavu-core) and the browser finds for the same name.
    lines = [
        f"digraph {_quote(flow.name)} {{",
        "  rankdir=TB; nodesep=0.25; ranksep=0.45;",
        '  node [fontname="DejaVu Sans,Helvetica,Arial,sans-serif", fontsize=11, margin="0.12,0.06"];',
        '  edge [fontname="DejaVu Sans,Helvetica,Arial,sans-serif", fontsize=10];',
        '  start [shape=circle, label="call"];',
        f"  start -> {_quote(flow.start)};",
    ]
    for name, step in flow.steps.items():
        label = _quote(name, f"({step.type})", *_first_words(flow, step))
        shape, arrows = _shape_and_arrows(step)
        marked = (
            f", {ADDED}"
            if name in change.added
            else f", {CHANGED}"
            if name in change.changed
            else ""
        )
        lines.append(f"  {_quote(name)} [shape={shape}, label={label}{marked}];")
        lines += [f"  {_arrow(name, *arrow)}" for arrow in arrows]
    if change:
        lines += _legend(change)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(flow: Flow, against: Flow | None = None) -> bytes:
    """Draw the flow as SVG with Graphviz's dot (its changes marked, if ``against``)."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramUnavailable("Graphviz is not installed: apt-get install graphviz")
    result = subprocess.run(  # noqa: S603 - dot from PATH, fixed arguments, DOT text on stdin
        [dot, "-Tsvg"],
        input=to_dot(flow, against).encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise DiagramUnavailable(f"dot failed: {result.stderr.decode(errors='replace')[:300]}")
    return result.stdout
