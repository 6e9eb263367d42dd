"""Checks a schema cannot express: the graph of steps and the completeness of prompts."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, assert_never

from ivr.flows.schema import (
    CHOICES,
    Audio,
    ChoiceName,
    CollectStep,
    ConfirmStep,
    Flow,
    GotoStep,
    HangupStep,
    MenuStep,
    Piece,
    Prompt,
    QuestionStep,
    RecordStep,
    ReferenceStep,
    RegisterStep,
    SayStep,
    Speech,
    Step,
    VerifyStep,
    prompt_of,
)
from ivr.flows.source import DocPath

Finding = tuple[DocPath, str]


def successors(step: Step) -> Iterator[tuple[DocPath, str]]:  # noqa: C901 - a case per step kind, checked whole by assert_never
    """Yield (path of the reference, target step) for every way out of ``step``."""
    match step:
        case SayStep():
            yield ("next",), step.next
        case MenuStep():
            for key, option in step.options.items():
                yield ("options", key), option.next
            yield ("otherwise",), step.otherwise
        case ConfirmStep():
            yield ("yes",), step.yes.next
            yield ("no",), step.no.next
            if step.otherwise:
                yield ("otherwise",), step.otherwise
        case RecordStep():
            yield ("next",), step.next
            yield ("otherwise",), step.otherwise
        case GotoStep():
            for index, case in enumerate(step.cases):
                yield ("cases", index, "next"), case.next
            yield ("next",), step.next
        case CollectStep() | VerifyStep():
            yield ("next",), step.next
            yield ("otherwise",), step.otherwise
        case RegisterStep():
            yield ("next",), step.next
            yield ("mismatch",), step.mismatch
            yield ("otherwise",), step.otherwise
        case ReferenceStep() | QuestionStep():
            yield ("next",), step.next
        case HangupStep():
            pass
        case _:
            assert_never(step)


def _role(step: Step) -> Literal["passes", "waits", "ends"]:
    """Whether a call passes through ``step``, waits there for the caller, or ends there."""
    match step:
        case (
            SayStep()
            | GotoStep()
            | ReferenceStep()
            | RegisterStep()
            | VerifyStep()
            | QuestionStep()
        ):
            return "passes"
        case MenuStep() | ConfirmStep() | RecordStep() | CollectStep():
            return "waits"
        case HangupStep():
            return "ends"
        case _:
            assert_never(step)


def _retrying(step: Step) -> tuple[int, list[Prompt]]:
    """Return how often ``step`` asks again, and the reprompts it asks with."""
    match step:
        case MenuStep() | ConfirmStep() | RecordStep() | CollectStep():
            return step.retries, step.reprompts
        case (
            SayStep()
            | HangupStep()
            | GotoStep()
            | ReferenceStep()
            | RegisterStep()
            | VerifyStep()
            | QuestionStep()
        ):
            return 0, []
        case _:
            assert_never(step)


def check_flow(flow: Flow, base_dir: Path) -> list[Finding]:
    """Return every problem found in ``flow``, each with the path it concerns."""
    findings: list[Finding] = []
    findings += _check_languages(flow)
    references = _check_references(flow)
    findings += references
    findings += _check_prompts(flow, base_dir)
    findings += _check_keys_and_choices(flow)
    findings += _check_graph(flow, bool(references), _meant(flow))
    return findings


def _missing_names(flow: Flow) -> list[str]:
    """The step names referred to (from ``start`` or a step) that no step has."""
    names = [flow.start] + [
        target for step in flow.steps.values() for _, target in successors(step)
    ]
    return list(dict.fromkeys(name for name in names if name not in flow.steps))


def _orphans(flow: Flow) -> list[str]:
    """The steps nothing refers to (``start`` included)."""
    referenced = {flow.start} | {t for step in flow.steps.values() for _, t in successors(step)}
    return [name for name in flow.steps if name not in referenced]


def _meant(flow: Flow) -> dict[str, str]:
    """For each missing step name, the step nothing refers to that it is a misspelling of.

    A typo in a reference (``next: anonymity_promis``) leaves the step it meant with no way
    in; a typo in a step's own name leaves the references to it dangling. Either way it is
    one mistake: it is reported once, at the reference, naming the step it meant, and the
    step it meant is not reported again as unreachable.
    """
    orphans = _orphans(flow)
    meant: dict[str, str] = {}
    for missing in _missing_names(flow):
        close = difflib.get_close_matches(
            missing, [o for o in orphans if o not in meant.values()], n=1, cutoff=0.6
        )
        if close:
            meant[missing] = close[0]
    return meant


def _check_languages(flow: Flow) -> list[Finding]:
    if flow.default_language not in flow.languages:
        declared = ", ".join(flow.languages)
        return [
            (
                ("default_language",),
                f"default_language {flow.default_language!r} is not one of "
                f"the declared languages ({declared})",
            )
        ]
    return []


def _check_references(flow: Flow) -> list[Finding]:
    findings: list[Finding] = []
    meant = _meant(flow)

    def guess(target: str) -> str:
        return f" (did you mean {meant[target]!r}?)" if target in meant else ""

    if flow.start not in flow.steps:
        findings.append(
            (("start",), f"start refers to missing step {flow.start!r}{guess(flow.start)}")
        )
    for name, step in flow.steps.items():
        for path, target in successors(step):
            if target not in flow.steps:
                findings.append(
                    (
                        ("steps", name, *path),
                        f"step {name!r} refers to missing step {target!r}{guess(target)}",
                    )
                )
    return findings


def _prompts_of(step: Step) -> Iterator[tuple[DocPath, Prompt]]:
    prompt = prompt_of(step)
    if prompt is not None:
        yield ("prompt",), prompt
    for index, reprompt in enumerate(_retrying(step)[1]):
        yield ("reprompts", index), reprompt
    if isinstance(step, QuestionStep):
        yield ("none",), step.none


def _check_prompts(flow: Flow, base_dir: Path) -> list[Finding]:
    findings: list[Finding] = []
    declared = set(flow.languages)
    for name, step in flow.steps.items():
        for path, prompt in _prompts_of(step):
            where = ("steps", name, *path)
            for missing in sorted(declared - set(prompt)):
                findings.append((where, f"step {name!r}: {path[0]} has no {missing} translation"))
            for unknown in sorted(set(prompt) - declared):
                findings.append(
                    (
                        (*where, unknown),
                        f"step {name!r}: language {unknown!r} is not declared under languages",
                    )
                )
            for language, pieces in prompt.items():
                for index, piece in enumerate(pieces):
                    problem = _piece_problem(piece, declared, base_dir)
                    if problem:
                        findings.append(((*where, language, index), f"step {name!r}: {problem}"))
    return findings


def _piece_problem(piece: Piece, declared: set[str], base_dir: Path) -> str | None:
    match piece:
        case str():
            return None
        case Speech():
            if piece.language in declared:
                return None
            return f"language {piece.language!r} is not declared under languages"
        case Audio():
            return _audio_problem(piece.audio, base_dir)
        case _:
            assert_never(piece)


def _audio_problem(relative: str, base_dir: Path) -> str | None:
    base = base_dir.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        return f"audio file {relative!r} must be inside {base_dir}"
    if not target.is_file():
        return f"audio file {relative!r} does not exist"
    if target.suffix.lower() not in {".wav", ".mp3"}:
        return f"audio file {relative!r} must be .wav or .mp3"
    return None


def _check_keys_and_choices(flow: Flow) -> list[Finding]:
    findings: list[Finding] = []
    for name, step in flow.steps.items():
        where: DocPath = ("steps", name)
        # Only menus and confirmations have keys that can clash.
        match step:
            case MenuStep() if step.repeat_key in step.options:
                findings.append(
                    (
                        (*where, "repeat_key"),
                        f"step {name!r}: repeat key {step.repeat_key!r} is also a menu option",
                    )
                )
            case ConfirmStep() if step.yes_key == step.no_key:
                findings.append(((*where, "no_key"), f"step {name!r}: yes and no use the same key"))
        retries, reprompts = _retrying(step)
        if retries and not reprompts:
            findings.append(
                (
                    where,
                    f"step {name!r}: give at least one reprompt, so a caller "
                    "who presses nothing or a wrong key is told what to do",
                )
            )
        match step:
            case MenuStep() | ConfirmStep():
                for key, option in step.options.items():
                    findings += _check_choices(flow, option.set, (*where, "options", key, "set"))
            case GotoStep():
                for index, case in enumerate(step.cases):
                    findings += _check_choices(flow, case.when, (*where, "cases", index, "when"))
            case CollectStep() if step.min_digits > step.max_digits:
                findings.append(
                    (
                        (*where, "min_digits"),
                        f"step {name!r}: min_digits is more than max_digits",
                    )
                )
            case (
                SayStep()
                | RecordStep()
                | HangupStep()
                | CollectStep()
                | ReferenceStep()
                | RegisterStep()
                | VerifyStep()
                | QuestionStep()
            ):
                pass
            case _:
                assert_never(step)
    return findings


def _check_choices(flow: Flow, values: dict[ChoiceName, str], where: DocPath) -> list[Finding]:
    findings: list[Finding] = []
    for choice, value in values.items():
        allowed = CHOICES[choice]
        if choice == "language":
            allowed = tuple(flow.languages)
        elif choice == "category":
            allowed = tuple(flow.categories)
        if allowed is not None and value not in allowed:
            findings.append(
                (
                    (*where, choice),
                    f"{choice} {value!r} is not one of: {', '.join(allowed) or '(none declared)'}",
                )
            )
    return findings


def _check_graph(flow: Flow, dangling: bool, meant: dict[str, str]) -> list[Finding]:
    """Check reachability, endings and silent loops.

    With a dangling reference the graph is broken in one place, and reporting every
    step cut off by it would bury the real mistake: only orphans are reported then, and
    not an orphan a dangling reference was meant for (``meant``: it is named there).
    """
    findings: list[Finding] = []
    # Dangling references are reported on their own; the graph ignores them.
    edges = {
        name: [target for _, target in successors(step) if target in flow.steps]
        for name, step in flow.steps.items()
    }
    if flow.start not in flow.steps:
        return findings
    reachable = _walk(flow.start, edges)
    referenced = {target for targets in edges.values() for target in targets} | {flow.start}
    for name in flow.steps:
        follows_from_a_typo = name in meant.values()
        if (
            name not in reachable
            and (not dangling or name not in referenced)
            and not follows_from_a_typo
        ):
            findings.append((("steps", name), f"step {name!r} is unreachable from {flow.start!r}"))
    if dangling:
        return findings

    reverse: dict[str, list[str]] = {name: [] for name in flow.steps}
    for name, targets in edges.items():
        for target in targets:
            reverse[target].append(name)
    ends = [name for name, step in flow.steps.items() if _role(step) == "ends"]
    can_end: set[str] = set()
    for end in ends:
        can_end |= _walk(end, reverse)
    for name in flow.steps:
        if name in reachable and name not in can_end:
            findings.append(
                (
                    ("steps", name),
                    f"step {name!r}: no path from here ends the call (add a way to a hangup step)",
                )
            )

    # A loop made only of say and goto steps would talk forever without listening.
    silent = {n: s for n, s in flow.steps.items() if _role(s) == "passes"}
    loop = _find_cycle({n: [t for t in edges[n] if t in silent] for n in silent})
    if loop:
        findings.append(
            (
                ("steps", loop[0]),
                "steps " + " -> ".join(loop) + " loop forever without waiting for the caller",
            )
        )
    return findings


def _walk(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in edges.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle in ``edges`` as a list of names (first repeated last), if any."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in edges[node]:
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target, path)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None
