"""Turn a flow file into a validated :class:`LoadedFlow`, or a list of ``file:line`` problems."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ivr.flows.checks import check_flow
from ivr.flows.schema import STEP_TYPES, Flow
from ivr.flows.source import DocPath, FlowProblem, FlowSyntaxError, SourceMap, parse_yaml


class FlowInvalid(Exception):
    """A flow file was refused; ``problems`` says where and why."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class LoadedFlow:
    """A valid flow, the exact text it came from and that text's hash (its version)."""

    flow: Flow
    content: str
    content_hash: str
    base_dir: Path


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_flow_file(path: Path) -> LoadedFlow:
    """Read and validate the flow at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowInvalid([FlowProblem(str(path), 1, "no such flow file")]) from None
    except UnicodeDecodeError as error:
        raise FlowInvalid([FlowProblem(str(path), 1, f"not UTF-8 text: {error.reason}")]) from None
    return load_flow_text(text, str(path), path.parent)


def load_flow_text(text: str, filename: str, base_dir: Path) -> LoadedFlow:
    """Validate flow ``text`` (named ``filename`` in messages); audio is found in ``base_dir``."""
    try:
        data, source = parse_yaml(text, filename)
    except FlowSyntaxError as error:
        raise FlowInvalid(error.problems) from None
    if not isinstance(data, dict):
        raise FlowInvalid([FlowProblem(filename, 1, "a flow file is a mapping of settings")])
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        raise FlowInvalid(_schema_problems(error, data, source, filename)) from None
    findings = check_flow(flow, base_dir)
    if findings:
        problems = [
            FlowProblem(filename, source.line_of(path), message) for path, message in findings
        ]
        raise FlowInvalid(sorted(problems, key=lambda p: p.line))
    return LoadedFlow(flow, text, content_hash(text), base_dir)


def _schema_problems(
    error: ValidationError, data: dict[str, Any], source: SourceMap, filename: str
) -> list[FlowProblem]:
    problems: dict[tuple[int, str], FlowProblem] = {}
    items = error.errors()
    meant = _misspelt_settings(data, items)
    for item in items:
        path = _document_path(data, item["loc"])
        where = ".".join(str(part) for part in path) or "the file"
        if item["type"] == "missing" and path in meant.values():
            continue  # it is there, misspelt: said once, at the misspelling
        message = f"{where}: {_friendly(item)}"
        if path in meant:
            message = f"{where}: is not a setting here: did you mean {meant[path][-1]!r}?"
        line = source.line_of(path)
        problems.setdefault((line, message), FlowProblem(filename, line, message))
    return sorted(problems.values(), key=lambda p: p.line)


def _misspelt_settings(data: Any, items: list[Any]) -> dict[DocPath, DocPath]:
    """Each unknown setting that is a misspelling of a required one missing beside it.

    ``nxt: menu`` is one mistake, not two ("nxt is not a setting" and "next is
    required"): it is reported once, where it was written, naming the setting meant.
    """
    missing: dict[DocPath, list[str]] = {}
    for item in items:
        if item["type"] == "missing":
            path = _document_path(data, item["loc"])
            missing.setdefault(path[:-1], []).append(str(path[-1]))
    meant: dict[DocPath, DocPath] = {}
    for item in items:
        if item["type"] != "extra_forbidden":
            continue
        path = _document_path(data, item["loc"])
        wanted = [
            name for name in missing.get(path[:-1], []) if (*path[:-1], name) not in meant.values()
        ]
        close = difflib.get_close_matches(str(path[-1]), wanted, n=1, cutoff=0.6)
        if close:
            meant[path] = (*path[:-1], close[0])
    return meant


def _document_path(data: Any, loc: tuple[int | str, ...]) -> DocPath:
    """Map a pydantic location onto the document, skipping the labels pydantic inserts.

    Pydantic adds the union tag of a step (``menu``), validator names and ``[key]`` to
    locations; they are not in the file, so they are skipped to find the right line.
    """
    inserted = {*STEP_TYPES, "[key]"}
    path: list[str | int] = []
    current: Any = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_mapping or in_list:
            current = current[part]
            path.append(part)
        elif part in inserted or str(part).startswith("function-"):
            continue
        else:  # a missing setting: point at its parent's line
            path.append(part)
            current = None
    return tuple(path)


def _friendly(item: Any) -> str:
    kind = item["type"]
    if kind == "union_tag_not_found":
        return f"each step needs a type: one of {', '.join(STEP_TYPES)}"
    if kind == "union_tag_invalid":
        return (
            f"unknown step type {item['input'].get('type')!r}; use one of {', '.join(STEP_TYPES)}"
        )
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a setting here (check the spelling)"
    if kind == "string_pattern_mismatch" and item["loc"][-1] == "[key]":
        return f"{item['input']!r} is not a phone key (0-9, * or #)"
    if kind == "string_pattern_mismatch":
        return f"{item['input']!r} is not allowed here"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")
