"""Validation: a table of bad snippets and the exact message each must produce, all at once."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boflyt.engine.definition.load import parse_version
from boflyt.engine.definition.safe_yaml import location
from boflyt.engine.definition.validate import validate
from boflyt.models.errors import DefinitionError, Problem
from tests.engine.definition.snippets import BASE, LANES, declare, edit
from tests.factories import linear_version, make_version

FILE = "test_process/v1.yaml"


def problems_of(text: str) -> list[str]:
    """Every problem line ``parse_version`` reports for ``text`` (empty when it is valid)."""
    try:
        parse_version(text, file=FILE, lanes=LANES)
    except DefinitionError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def test_the_base_snippet_is_valid() -> None:
    assert problems_of(BASE) == []


# (changes to BASE, one expected problem line, or a substring of it)
BAD_SNIPPETS = {
    "unknown step lane": (
        [("    lane: nav\n    joint", "    lane: navv\n    joint")],
        f"{FILE}:40 steps[5](nav_part).lane: unknown lane 'navv' (did you mean 'nav'?); "
        "known lanes: housing_office, landlord, nav, tenant",
    ),
    "joint lane not in the version's lanes": (
        [("joint_with: [housing_office]", "joint_with: [landlord]")],
        f"{FILE}:41 steps[5](nav_part).joint_with[0]: lane 'landlord' is not in this version's "
        "lanes: tenant, housing_office, nav",
    ),
    "unknown lane in the version's lanes": (
        [("lanes: [tenant, housing_office, nav]", "lanes: [tenant, housing_office, nav, nowhere]")],
        f"{FILE}:10 lanes[3]: unknown lane 'nowhere'; known lanes: housing_office, landlord, nav",
    ),
    "unknown step in a transition": (
        [("{from: join, to: end}", "{from: join, to: ende}")],
        f"{FILE}:66 transitions[9](join->ende).to: unknown step 'ende' (did you mean 'end'?)",
    ),
    "duplicate step id": (
        [("id: fix", "id: apply")],
        f"{FILE}:30 steps[3](apply).id: duplicate step id 'apply'; first defined on line 16",
    ),
    "duplicate transition": (
        [("  - {from: join, to: end}\n", "  - {from: join, to: end}\n  - {from: join, to: end}\n")],
        f"{FILE}:67 transitions[10](join->end): duplicate transition join -> end; first on line 66",
    ),
    "no start": (
        [("kind: start", "kind: task")],
        f"{FILE}:11 steps: no start step; exactly one step must have kind: start",
    ),
    "several starts": (
        [("id: fix\n    kind: task", "id: fix\n    kind: start")],
        f"{FILE}:30 steps[3](fix): several start steps (start, fix); exactly one is allowed",
    ),
    "no end": (
        [("kind: end", "kind: task")],
        f"{FILE}:11 steps: no end step; at least one step must have kind: end",
    ),
    "unreachable step": (
        [("  - {from: start, to: apply}\n", "")],
        f"{FILE}:16 steps[1](apply): step 'apply' cannot be reached from the start step 'start'",
    ),
    "step that cannot reach an end": (
        [("  - {from: fix, to: check, rework: true}\n", "")],
        f"{FILE}:30 steps[3](fix): step 'fix' cannot reach an end step",
    ),
    "decision with one outcome": (
        [("  - {from: check, to: fix, outcome: incomplete, probability: 0.3}\n", "")],
        f"{FILE}:22 steps[2](check): decision 'check' has 1 outcome(s); "
        "a decision needs at least two",
    ),
    "decision edge without outcome": (
        [("outcome: incomplete, ", "")],
        f"{FILE}:60 transitions[3](check->fix): transition check -> fix out of decision 'check' "
        "has no outcome",
    ),
    "decision edge without probability": (
        [(", probability: 0.3", "")],
        "transition check -> fix out of decision 'check' has no probability",
    ),
    "probabilities not summing to 1": (
        [("probability: 0.3", "probability: 0.2")],
        f"{FILE}:22 steps[2](check): probabilities of decision 'check' sum to 0.9, not 1: "
        "complete 0.7 -> split, incomplete 0.2 -> fix",
    ),
    "duplicate outcome": (
        [("outcome: incomplete", "outcome: complete")],
        f"{FILE}:60 transitions[3](check->fix).outcome: outcome 'complete' is used twice by "
        "decision 'check'",
    ),
    "task that branches": (
        [
            (
                "  - {from: join, to: end}\n",
                "  - {from: join, to: end}\n  - {from: apply, to: end}\n",
            )
        ],
        f"{FILE}:16 steps[1](apply): task step 'apply' has 2 outgoing transitions (to check, end); "
        "only decision and parallel steps may branch",
    ),
    "parallel with one branch": (
        [("  - {from: split, to: office_part}\n", "")],
        f"{FILE}:34 steps[4](split): parallel 'split' has 1 branch(es); "
        "a parallel split needs at least two",
    ),
    "parallel with probabilities": (
        [("{from: split, to: nav_part}", "{from: split, to: nav_part, probability: 0.5}")],
        f"{FILE}:62 transitions[5](split->nav_part).probability: probability on a transition out "
        "of parallel step 'split'; all branches of a parallel split are taken",
    ),
    "probability on a plain transition": (
        [("{from: apply, to: check}", "{from: apply, to: check, probability: 1}")],
        "probability on a transition out of task step 'apply'; only transitions out of a "
        "decision carry one",
    ),
    "join without a matching parallel split": (
        [
            ("kind: parallel", "kind: decision"),
            ("to: nav_part}", "to: nav_part, outcome: a, probability: 0.5}"),
            ("to: office_part}", "to: office_part, outcome: b, probability: 0.5}"),
        ],
        f"{FILE}:48 steps[7](join): join 'join' has no matching parallel split: "
        "no parallel step lies on every path from start to it",
    ),
    "join with one incoming branch": (
        [("{from: office_part, to: join}", "{from: office_part, to: end}")],
        f"{FILE}:48 steps[7](join): join 'join' has 1 incoming branch(es); "
        "a join needs at least two",
    ),
    "transition into the start": (
        [("{from: fix, to: check, rework: true}", "{from: fix, to: start, rework: true}")],
        f"{FILE}:61 transitions[4](fix->start).to: transition into start step 'start'; "
        "a start step has no incoming transitions",
    ),
    "transition out of an end": (
        [("  - {from: join, to: end}\n", "  - {from: join, to: end}\n  - {from: end, to: join}\n")],
        f"{FILE}:67 transitions[10](end->join).from: transition out of end step 'end'; "
        "an end step has no outgoing transitions",
    ),
    "rework that does not go back": (
        [("{from: apply, to: check}", "{from: apply, to: check, rework: true}")],
        f"{FILE}:58 transitions[1](apply->check).rework: rework transition apply -> check does "
        "not loop back: 'check' never leads back to 'apply'",
    ),
    "rework on the forward edge of a loop": (
        [
            ("probability: 0.3}", "probability: 0.3, rework: true}"),
            ("{from: fix, to: check, rework: true}", "{from: fix, to: check}"),
        ],
        f"{FILE}:60 transitions[3](check->fix).rework: rework transition check -> fix does not "
        "go back to an earlier step: without rework transitions, 'fix' is not on the way from "
        "the start to 'check'; rework: true belongs on the transition that returns to an "
        "earlier step",
    ),
    "rework on both edges of a loop": (
        [("probability: 0.3}", "probability: 0.3, rework: true}")],
        f"{FILE}:60 transitions[3](check->fix).rework: rework transition check -> fix does not "
        "go back to an earlier step",
    ),
    "cycle not marked rework": (
        [("{from: fix, to: check, rework: true}", "{from: fix, to: check}")],
        f"{FILE}:61 transitions[4](fix->check): cycle check -> fix -> check has no rework "
        "transition; mark the transition that loops back with rework: true",
    ),
    "based_on not earlier": (
        [("version: 1\n", "version: 1\nbased_on: 1\n")],
        f"{FILE}:3 based_on: based_on 1 must name an earlier version than 1",
    ),
    "negative duration": (
        [("touch_minutes: 20", "touch_minutes: -20")],
        f"{FILE}:26 steps[2](check).touch_minutes: negative duration -20; must be ≥ 0",
    ),
    "inverted duration": (
        [("[30, 60]", "[60, 30]")],
        f"{FILE}:20 steps[1](apply).touch_minutes: invalid duration [60, 30]: "
        "low (60) is greater than high (30)",
    ),
    "infinite duration": (
        [("touch_minutes: 20", "touch_minutes: 1e400")],
        f"{FILE}:26 steps[2](check).touch_minutes: duration is not a finite number",
    ),
    "text where a duration belongs": (
        [("touch_minutes: 20", "touch_minutes: .inf")],
        f"{FILE}:26 steps[2](check).touch_minutes: expected a duration: a number, [low, high] or "
        "{dist, low, high, mode}; found '.inf'",
    ),
    "triangular without mode": (
        [("mode: 2, ", "")],
        f"{FILE}:27 steps[2](check).wait_days: invalid duration",
    ),
    "unknown waste": (
        [("wastes: [waiting]", "wastes: [waitng]")],
        f"{FILE}:29 steps[2](check).wastes[0]: unknown waste 'waitng'; allowed: transport, "
        "inventory, motion, waiting, overproduction, overprocessing, defects, unused_skills",
    ),
    "unknown value class": (
        [("value: necessary", "value: needed")],
        f"{FILE}:28 steps[2](check).value: unknown value class 'needed'; "
        "allowed: value_adding, necessary, waste",
    ),
    "unknown kind": (
        [("kind: wait", "kind: pause")],
        f"{FILE}:44 steps[6](office_part).kind: unknown step kind 'pause'; "
        "allowed: start, task, auto, decision, parallel, join, wait, end",
    ),
    "unknown channel": (
        [("channel: letter", "channel: fax")],
        f"{FILE}:21 steps[1](apply).channel: unknown channel 'fax'; "
        "allowed: system, email, letter, phone, meeting",
    ),
    "unknown field": (
        [("    external_wait: true", "    external_wiat: true")],
        f"{FILE}:47 steps[6](office_part).external_wiat: unknown field 'external_wiat' "
        "(did you mean 'external_wait'?); allowed: id, kind, lane, joint_with, name,",
    ),
    "unquoted comma in a flow mapping": (
        [("{nb: Vent, en: Wait}", "{nb: Vent, tenk, en: Wait}")],
        f"{FILE}:46 steps[6](office_part).name.tenk: unknown field 'tenk'",
    ),
    "missing field": (
        [("    name: {nb: Vent, en: Wait}\n", "")],
        f"{FILE}:43 steps[6](office_part): required field 'name' is missing",
    ),
    "yes is not a boolean": (
        [("external_wait: true", "external_wait: yes")],
        f"{FILE}:47 steps[6](office_part).external_wait: expected true or false, found 'yes'",
    ),
    "probability above 1": (
        [("probability: 0.7", "probability: 1.7")],
        f"{FILE}:59 transitions[2](check->split).probability: too large: 1.7; must be ≤ 1",
    ),
    "bad id": (
        [("id: nav_part", "id: Nav-part")],
        f"{FILE}:38 steps[5](Nav-part).id: 'Nav-part' is not a valid id; use lower-case letters",
    ),
    "impossible date": (
        [("date: 2024-03-01", "date: 2024-02-30")],
        f"{FILE}:6 date: invalid date '2024-02-30': day is out of range for month; "
        "write YYYY-MM-DD",
    ),
    "empty label": ([("label: Test", "label: ''")], f"{FILE}:3 label: must not be empty"),
    "number where text belongs": (
        [("owner: Tests", "owner: 1.10")],
        f"{FILE}:5 owner: expected text, found 1.1",
    ),
    "malformed YAML": (
        [("name: {nb: Sjekk, en: Check}", "name: {nb: Sjekk, en: Check")],
        f"{FILE}:26: malformed YAML: while parsing a flow mapping (started on line 25), "
        "expected ',' or '}', but got ':'",
    ),
    "bad indentation": (
        [("    kind: join\n", "   kind: join\n")],
        f"{FILE}:49: malformed YAML: while parsing a block collection",
    ),
    "duplicate key": (
        [
            (
                "    lane: tenant\n    name: {nb: Start",
                "    lane: tenant\n    lane: nav\n    name: {nb: Start",
            )
        ],
        f"{FILE}:15 steps[0](start): duplicate key 'lane' (first on line 14, again on line 15)",
    ),
    "alias": (
        [("label: Test", "label: &x Test\nowner2: *x")],
        f"{FILE}:3: anchors and aliases (&name, *name) are not allowed",
    ),
    "python tag": (
        [("label: Test", "label: !!python/object/apply:os.system [echo hi]")],
        f"{FILE}:3: tags are not allowed (found '!!python/object/apply:os.system')",
    ),
    "flow depth bomb": (
        [("label: Test", "label: " + "[" * 100 + "]" * 100)],
        f"{FILE}:3: nesting deeper than 64 levels",
    ),
    "block depth bomb": (
        [("label: Test", "label:\n" + "".join("  " * i + "- \n" for i in range(1, 80)))],
        "nesting deeper than 64 levels",
    ),
    "empty file": ([(BASE, "")], f"{FILE}:1: expected a mapping of version fields, found an empty"),
    "a list, not a mapping": (
        [(BASE, "- a\n- b\n")],
        f"{FILE}:1: expected a mapping of version fields, found a list",
    ),
}


# (changes to BASE with DECLARED's orders and outcome metrics, one expected problem line)
BAD_DECLARED = {
    "order that a path breaks": (
        [("{before: check, after: [fix]}", "{before: fix, after: [split]}")],
        f"{FILE}:14 order[2](fix).after[0]: 'split' can be reached without 'fix' before it: "
        "start -> apply -> check -> split; every path to 'split' must pass 'fix'",
    ),
    "order across parallel branches": (
        [("{before: nav_part, after: [join, end]}", "{before: nav_part, after: [office_part]}")],
        f"{FILE}:13 order[1](nav_part).after[0]: 'office_part' can be reached without "
        "'nav_part' before it: start -> apply -> check -> split -> office_part",
    ),
    "order with an unknown step": (
        [("{before: apply, after", "{before: aply, after")],
        f"{FILE}:12 order[0](aply).before: unknown step 'aply' (did you mean 'apply'?)",
    ),
    "order after itself": (
        [("after: [fix]}", "after: [check]}")],
        f"{FILE}:14 order[2](check).after[0]: 'check' cannot come after itself",
    ),
    "order without after": (
        [("after: [fix]}", "after: []}")],
        f"{FILE}:14 order[2].after: tuple should have at least 1 item",
    ),
    "outcome metric with an unknown step": (
        [("steps: [nav_part]", "steps: [nav_prt]")],
        f"{FILE}:17 outcome_metrics[1](to_nav).steps[0]: unknown step 'nav_prt' "
        "(did you mean 'nav_part'?)",
    ),
    "outcome metric id twice": (
        [("id: to_nav", "id: finished")],
        f"{FILE}:17 outcome_metrics[1](finished).id: duplicate outcome metric id 'finished'; "
        "first on line 16",
    ),
    "unknown outcome measure": (
        [("measure: time_to", "measure: mean_time")],
        f"{FILE}:17 outcome_metrics[1].measure: unknown measure 'mean_time'; "
        "allowed: share, time_to",
    ),
    "outcome metric without a name": (
        [("name: {nb: Til NAV, en: To NAV}, ", "")],
        f"{FILE}:17 outcome_metrics[1]: required field 'name' is missing",
    ),
    "outcome metric field misspelt": (
        [("steps: [end]", "step: [end]")],
        f"{FILE}:16 outcome_metrics[0].step: unknown field 'step' (did you mean 'steps'?); "
        "allowed: id, name, measure, steps, note",
    ),
}


def test_declared_orders_and_outcome_metrics_that_hold_are_valid() -> None:
    """Joins wait for every branch: nav_part comes before join and end on every run."""
    assert problems_of(declare()) == []


@pytest.mark.parametrize(("changes", "expected"), BAD_DECLARED.values(), ids=BAD_DECLARED.keys())
def test_bad_declaration_gives_its_message(changes: list[tuple[str, str]], expected: str) -> None:
    found = problems_of(declare(*changes))
    assert any(expected in line for line in found), "\n".join(found)


def test_a_broken_order_names_every_step_it_reaches() -> None:
    text = declare(("{before: check, after: [fix]}", "{before: fix, after: [split, join, end]}"))
    found = [line for line in problems_of(text) if "order[2]" in line]
    assert [line.split(": ", 1)[0] for line in found] == [
        f"{FILE}:14 order[2](fix).after[0]",
        f"{FILE}:14 order[2](fix).after[1]",
        f"{FILE}:14 order[2](fix).after[2]",
    ]


def test_a_version_without_declarations_keeps_its_content_hash() -> None:
    """Stores hold versions hashed before orders and outcome metrics existed."""
    version = linear_version()
    assert "order" not in version.canonical()
    assert "outcome_metrics" not in version.canonical()
    assert version.content_hash == (
        "c97235d9b3584c5bb1a8bcd54fd4a2321feec647e0a56884e55317e5dab3c598"
    )


@pytest.mark.parametrize(("changes", "expected"), BAD_SNIPPETS.values(), ids=BAD_SNIPPETS.keys())
def test_bad_snippet_gives_its_message(changes: list[tuple[str, str]], expected: str) -> None:
    found = problems_of(edit(*changes))
    assert any(expected in line for line in found), "\n".join(found)


def test_three_faults_give_three_problems_sorted_by_line() -> None:
    text = edit(
        ("wastes: [waiting]", "wastes: [waitng]"),  # line 29: a model error
        ("    lane: nav\n    joint", "    lane: navv\n    joint"),  # line 40: a lane rule
        ("probability: 0.3", "probability: 0.2"),  # reported on the decision, line 22
    )
    with pytest.raises(DefinitionError) as caught:
        parse_version(text, file=FILE, lanes=LANES)
    problems = caught.value.problems
    assert [p.line for p in problems] == [22, 29, 40]
    assert [p.where for p in problems] == [
        "steps[2](check)",
        "steps[2](check).wastes[0]",
        "steps[5](nav_part).lane",
    ]
    assert str(caught.value).count("\n") == 2


def test_version_field_errors_come_with_graph_problems() -> None:
    text = edit(
        ("date: 2024-03-01", "date: 2024-02-30"),
        ("version: 1\n", "version: one\nbased_on: 1\n"),
        ("    lane: nav\n    joint", "    lane: navv\n    joint"),
        ("{from: split, to: nav_part}", "{from: split, to: nav_part, colour: red}"),
    )
    found = problems_of(text)
    assert [line.split(" ", 1)[0] for line in found] == [
        f"{FILE}:2",
        f"{FILE}:7",
        f"{FILE}:41",
        f"{FILE}:63",
    ], found
    assert "expected a whole number, found 'one'" in found[0]
    assert "unknown field 'colour'" in found[3]


def test_a_bad_transition_end_stops_the_graph_rules() -> None:
    text = edit(("{from: join, to: end}", "{from: join, to: End}"), ("kind: end", "kind: task"))
    assert problems_of(text) == [
        f"{FILE}:66 transitions[9](join->End).to: 'End' is not a valid id; use lower-case "
        "letters, digits and _, starting with a letter"
    ]


def test_a_repaired_field_is_not_reported_twice() -> None:
    text = edit(("    lane: nav\n    joint", "    lane: Nav\n    joint"))
    assert problems_of(text) == [
        f"{FILE}:40 steps[5](nav_part).lane: 'Nav' is not a valid id; use lower-case letters, "
        "digits and _, starting with a letter"
    ]


def test_validate_is_pure_and_places_problems_without_lines() -> None:
    version = make_version(
        [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task", "lane": "navv"}],
        [{"from": "start", "to": "a"}],
    )
    problems = validate(version, lanes=LANES, file="x.yaml")
    assert (
        Problem(
            "x.yaml",
            0,
            "steps[1](a).lane",
            "unknown lane 'navv' (did you mean 'nav'?); "
            "known lanes: housing_office, landlord, nav, tenant",
        )
        in problems
    )
    assert any(p.message.startswith("no end step") for p in problems)
    assert problems == sorted(problems)


def test_a_valid_version_has_no_problems() -> None:
    assert validate(linear_version(), lanes=LANES) == []


def test_probabilities_within_tolerance_are_accepted() -> None:
    text = edit(("probability: 0.7", "probability: 0.7000000001"))
    assert problems_of(text) == []


def test_location_tags_steps_and_transitions() -> None:
    tags = {("steps", 3): "nav_assess", ("transitions", 1): "a->b"}
    assert location(("steps", 3, "touch_minutes"), tags) == "steps[3](nav_assess).touch_minutes"
    assert location(("transitions", 1), tags) == "transitions[1](a->b)"
    assert location(("steps", 3, "wastes", 0), {}) == "steps[3].wastes[0]"


_LINES = BASE.splitlines(keepends=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_LINES) - 1),
            st.sampled_from(["", "  ", "- ", "x: ", "[", "}", ": ", "&a ", "*a", "'", "#", "\t"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mangled_files_never_raise_anything_but_definition_error(
    edits: list[tuple[int, str]],
) -> None:
    lines = list(_LINES)
    for number, insert in edits:
        lines[number] = insert + lines[number] if insert else ""
    try:
        parse_version("".join(lines), file=FILE, lanes=LANES)
    except DefinitionError as exc:
        assert exc.problems and all(p.file == FILE for p in exc.problems)
