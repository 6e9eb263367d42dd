"""Read a flow file into plain data while remembering the line of every value.

Error messages for the operations team must point at a line, so the YAML is composed
into nodes (which carry positions) and converted by hand. Duplicate keys, which PyYAML
would silently collapse, are reported: a menu with two entries for "1" is a mistake.

Aliases and anchors are refused, and the file's size is capped: a few hundred bytes of
nested aliases expand into billions of values (or recurse forever), and a flow file has
no need of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

DocPath = tuple[str | int, ...]  # where a value sits: keys and list indexes


@dataclass(frozen=True)
class FlowProblem:
    """One thing wrong with a flow file, at a line (1-based)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class SourceMap:
    """The line where each path in the document starts."""

    lines: dict[DocPath, int] = field(default_factory=dict)

    def line_of(self, path: DocPath) -> int:
        """Return the line of ``path``, or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


class FlowSyntaxError(Exception):
    def __init__(self, problems: list[FlowProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


MAX_FLOW_BYTES = 256 * 1024


class _PlainLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases where they appear."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors (&name) and aliases (*name) are not allowed in flow files: "
                "write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain data and its source map, or raise FlowSyntaxError."""
    if len(text.encode()) > MAX_FLOW_BYTES:
        raise FlowSyntaxError(
            [FlowProblem(filename, 1, f"the file is larger than {MAX_FLOW_BYTES // 1024} KB")]
        )
    try:
        node = yaml.compose(text, Loader=_PlainLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        what = error.problem or error.context or "not valid YAML"
        # Where the parser noticed is often after the mistake; say where it began too.
        if error.context and error.context_mark and error.context_mark.line + 1 != line:
            what += f" ({error.context} that starts on line {error.context_mark.line + 1})"
        raise FlowSyntaxError([FlowProblem(filename, line, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as error:  # reader errors: bad encoding, control characters
        raise FlowSyntaxError([FlowProblem(filename, 1, f"YAML syntax error: {error}")]) from None
    if node is None:
        raise FlowSyntaxError([FlowProblem(filename, 1, "the file is empty")])
    source = SourceMap()
    problems: list[FlowProblem] = []
    scalars = yaml.SafeLoader("")
    data = _convert(node, (), source, problems, filename, scalars)
    if problems:
        raise FlowSyntaxError(problems)
    return data, source


def _convert(
    node: yaml.Node,
    path: DocPath,
    source: SourceMap,
    problems: list[FlowProblem],
    filename: str,
    scalars: yaml.SafeLoader,
) -> Any:
    source.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    FlowProblem(filename, key_node.start_mark.line + 1, "a key must be plain text")
                )
                continue
            # Keys are text: a menu key written 1 and one written "1" are the same key.
            key = str(key_node.value)
            if key in result:
                problems.append(
                    FlowProblem(
                        filename,
                        key_node.start_mark.line + 1,
                        f"duplicate key {key!r} (already given on line {source.lines[(*path, key)]})",
                    )
                )
                continue
            result[key] = _convert(value_node, (*path, key), source, problems, filename, scalars)
            # A setting's line is its key's, not where its value starts (a nested mapping).
            source.lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), source, problems, filename, scalars)
            for index, item in enumerate(node.value)
        ]
    return scalars.construct_object(node)
