"""A flow file with a mistake is refused with ``file:line: what is wrong``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.loader import FlowInvalid, load_flow_file, load_flow_text

HOTLINE = Path(__file__).resolve().parents[2] / "call_flows" / "hotline.yaml"

SMALL_FLOW = """\
name: small
default_language: en-GB
start: menu
languages:
  en-GB: {voice: Polly.Amy}
  cy-GB: {voice: Polly.Gwyneth}
steps:
  menu:
    type: menu
    prompt:
      en-GB: Press 1 to leave a message.
      cy-GB: Pwyswch 1 i adael neges.
    options:
      "1": record
    retries: 1
    reprompts:
      - en-GB: Please press 1.
        cy-GB: Pwyswch 1.
    otherwise: record
  record:
    type: record
    prompt:
      en-GB: Speak after the tone.
      cy-GB: Siaradwch ar ôl y tôn.
    retries: 0
    next: bye
    otherwise: bye
  bye:
    type: hangup
    prompt:
      en-GB: Goodbye.
      cy-GB: Hwyl fawr.
"""


def problems_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    with pytest.raises(FlowInvalid) as refused:
        load_flow_file(path)
    return [str(problem) for problem in refused.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_national_flow_and_the_small_flow_are_valid(tmp_path: Path) -> None:
    hotline = load_flow_file(HOTLINE)
    assert set(hotline.flow.languages) == {"en-GB", "cy-GB"}
    assert load_flow_text(SMALL_FLOW, "small.yaml", tmp_path).flow.start == "menu"


def test_an_unreachable_step_is_named_with_its_line(tmp_path: Path) -> None:
    text = SMALL_FLOW + "  orphan:\n    type: hangup\n"
    path = tmp_path / "flow.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:{line_of(text, 'orphan:')}: step 'orphan' is unreachable from 'menu'"
    ]


def test_a_reference_to_a_missing_step_is_named_with_its_line(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace('"1": record', '"1": recrod')
    path = tmp_path / "flow.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:{line_of(text, 'recrod')}: step 'menu' refers to missing step 'recrod'"
    ]


def test_a_missing_translation_is_named_with_its_line(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace("      cy-GB: Hwyl fawr.\n", "")
    path = tmp_path / "flow.yaml"
    bye_prompt = line_of(text, "Goodbye") - 1
    assert problems_of(text, tmp_path) == [
        f"{path}:{bye_prompt}: step 'bye': prompt has no cy-GB translation"
    ]


def test_a_yaml_syntax_error_is_named_with_its_line(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace('"1": record', '"1": [record')
    (problem,) = problems_of(text, tmp_path)
    assert problem.startswith(
        f"{tmp_path / 'flow.yaml'}:{line_of(text, '[record') + 1}: YAML syntax error"
    )


def test_a_key_given_twice_in_a_menu_is_refused(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace('"1": record', '"1": record\n      1: bye')
    first = line_of(text, '"1": record')
    (problem,) = problems_of(text, tmp_path)
    assert problem.endswith(f":{first + 1}: duplicate key '1' (already given on line {first})")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("retries: 1", "retries: 9"),
            "steps.menu.retries: Input should be less than or equal to 5",
        ),
        (('"1": record', '"x": record'), "'x' is not a phone key (0-9, * or #)"),
        (("type: hangup", "type: hang_up"), "unknown step type 'hang_up'"),
        (
            ("    retries: 0\n", "    retries: 0\n    max_length: 5\n"),
            "steps.record.max_length: Input should be greater than or equal to 10",
        ),
        (
            ("otherwise: record", "otherwise: record\n    colour: blue"),
            "steps.menu.colour: is not a setting here",
        ),
        (
            ("    reprompts:\n      - en-GB: Please press 1.\n        cy-GB: Pwyswch 1.\n", ""),
            "give at least one reprompt",
        ),
    ],
)
def test_schema_mistakes_are_explained(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    problems = problems_of(SMALL_FLOW.replace(*change), tmp_path)
    assert any(expected in problem for problem in problems), problems


def test_a_flow_that_can_never_end_is_refused(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace("next: bye\n    otherwise: bye", "next: menu\n    otherwise: menu")
    problems = problems_of(text, tmp_path)
    assert any("no path from here ends the call" in p for p in problems), problems


def test_say_steps_that_loop_without_listening_are_refused(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace('"1": record', '"1": a') + (
        "  a:\n    type: say\n    prompt: {en-GB: A, cy-GB: A}\n    next: b\n"
        "  b:\n    type: goto\n    next: a\n"
    )
    problems = problems_of(text, tmp_path)
    assert any("a -> b -> a loop forever" in p for p in problems), problems


def test_a_missing_audio_file_is_refused_and_a_present_one_accepted(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace("en-GB: Goodbye.", "en-GB: {audio: bye.wav, text: Goodbye.}")
    problems = problems_of(text, tmp_path)
    assert any("audio file 'bye.wav' does not exist" in p for p in problems), problems
    (tmp_path / "bye.wav").write_bytes(b"RIFF")
    assert load_flow_file(tmp_path / "flow.yaml").flow.name == "small"


def test_audio_outside_the_flow_folder_is_refused(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace("en-GB: Goodbye.", "en-GB: {audio: ../../etc/passwd.wav}")
    assert any("must be inside" in p for p in problems_of(text, tmp_path))


def test_a_choice_must_name_a_declared_language(tmp_path: Path) -> None:
    text = SMALL_FLOW.replace('"1": record', '"1": {next: record, set: {language: fr-FR}}')
    assert any(
        "language 'fr-FR' is not one of: en-GB, cy-GB" in p for p in problems_of(text, tmp_path)
    )


ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (ALIAS_BOMB, 1),  # the first anchor: nothing is expanded
        ("steps: &loop\n  again: *loop\n", 1),  # refers to itself: would recurse forever
        (SMALL_FLOW.replace("  bye:\n", "  bye: &bye\n"), None),
    ],
)
def test_anchors_and_aliases_are_refused_before_they_expand(
    tmp_path: Path, text: str, line: int | None
) -> None:
    (problem,) = problems_of(text, tmp_path)
    where = line if line is not None else line_of(text, "&bye")
    assert problem.startswith(f"{tmp_path / 'flow.yaml'}:{where}: YAML syntax error: anchors")


def test_an_oversized_flow_file_is_refused_without_parsing(tmp_path: Path) -> None:
    text = SMALL_FLOW + "#" * (300 * 1024) + "\n"
    (problem,) = problems_of(text, tmp_path)
    assert problem.endswith(":1: the file is larger than 256 KB")


def test_a_misspelt_reference_is_one_problem_naming_the_step_it_meant(tmp_path: Path) -> None:
    """Given a reference misspelt (``recrod``) and nothing else leading to ``record``,
    when the flow is checked, then the typo is reported once, at its line, with the step
    it meant, and ``record`` is not reported again as unreachable (a follow-on)."""
    text = SMALL_FLOW.replace('"1": record', '"1": recrod').replace(
        "otherwise: record", "otherwise: bye"
    )
    path = tmp_path / "flow.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:{line_of(text, 'recrod')}: step 'menu' refers to missing step 'recrod'"
        " (did you mean 'record'?)"
    ]


def test_a_misspelt_step_name_is_one_problem_at_each_reference(tmp_path: Path) -> None:
    """Given a step whose own name is misspelt (``recrod:``), when the flow is checked,
    then each reference to the name it should have is reported, pointing at the misspelt
    step, and the misspelt step is not reported as unreachable."""
    text = SMALL_FLOW.replace("  record:\n", "  recrod:\n")
    path = tmp_path / "flow.yaml"
    problem = "step 'menu' refers to missing step 'record' (did you mean 'recrod'?)"
    option, otherwise = line_of(text, '"1": record'), line_of(text, "otherwise: record")
    assert problems_of(text, tmp_path) == [
        f"{path}:{option}: {problem}",
        f"{path}:{otherwise}: {problem}",
    ]


def test_a_step_nothing_leads_to_is_still_unreachable_beside_an_unrelated_typo(
    tmp_path: Path,
) -> None:
    """Given a dangling reference unlike any step's name and a step nothing refers to,
    when the flow is checked, then both are reported: no guess is made."""
    text = SMALL_FLOW.replace("otherwise: record", "otherwise: nowhere") + (
        "  orphan:\n    type: hangup\n"
    )
    path = tmp_path / "flow.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:{line_of(text, 'nowhere')}: step 'menu' refers to missing step 'nowhere'",
        f"{path}:{line_of(text, 'orphan:')}: step 'orphan' is unreachable from 'menu'",
    ]


def test_a_misspelt_setting_is_one_problem_naming_the_setting_meant(tmp_path: Path) -> None:
    """Given a required setting misspelt (``nxt`` for ``next``), when the flow is checked,
    then it is reported once, at the misspelling, naming ``next``, and not again as
    "next is required"; an unknown setting unlike any missing one is still just unknown."""
    text = SMALL_FLOW.replace("    next: bye\n", "    nxt: bye\n")
    path = tmp_path / "flow.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:{line_of(text, 'nxt: bye')}: steps.record.nxt: is not a setting here:"
        " did you mean 'next'?"
    ]
    text = SMALL_FLOW.replace("    next: bye\n", "    colour: bye\n")
    assert [p.split(": ", 1)[1] for p in problems_of(text, tmp_path)] == [
        "steps.record.next: is required",
        "steps.record.colour: is not a setting here (check the spelling)",
    ]
