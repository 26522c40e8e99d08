"""How the plain-language reader does on requests written without looking at it (issue 24).

Each request in a corpus file (`requests_dev.yaml` here; a held-out half lives outside the
repository) goes the way of `facetory plan TEXT --offline --json`: read the words, then plan
them. The outcome is one of three:

- right: planned with every fact its `expect` states, or, where the corpus says the request is
  `ambiguous` or an `error`, answered with a question or a refusal (a SpecError) instead of a plan;
- asked: a question or a refusal where a careful reader would have planned;
- wrong: a plan whose facts differ from `expect`, or any plan for an `ambiguous`/`error` request,
  the worst outcome, since the person trains on data they did not ask for.

`python -m tests.agent.language.test_requests_corpus [FILE]` prints the three counts and lists
each silent mis-plan. As a test it holds the reader to the figures recorded below on the dev half.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from agent.language.parse import load_spec_source
from agent.language.spec import SpecError
from agent.planning.planner import make_plan
from tests.agent.language.test_reader_corpus import fact_problems, factor_problems
from tools.vocabulary import FACTORS

DEV = Path(__file__).with_name("requests_dev.yaml")
#: Today's figures on the dev half (raise them as the reader improves; never lower them):
#: right answers, of which plans as asked, and silent mis-plans.
BASELINE_RIGHT = 101
BASELINE_PLANNED = 78
BASELINE_WRONG = 0
EXPECT_KEYS = {"total", "classes", "splits", "identities", "factors", "fixed", "class_attributes"}


def load(path: Path = DEV) -> list[dict[str, Any]]:
    """The corpus: a list of {text, and one of expect / ambiguous / error}."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def misplans(spec: Any, exp: dict[str, Any]) -> list[str]:
    """Facts in `exp` the spec gets wrong; `fixed` means every image has that level."""
    found = fact_problems(spec, {k: v for k, v in exp.items() if k != "fixed"})
    for factor, level in exp.get("fixed", {}).items():
        found += factor_problems(spec, factor, [level])
    return found


def outcome(case: dict[str, Any]) -> tuple[str, str]:
    """(right | asked | wrong, what happened in a few words) for one request, read and planned
    as `facetory plan TEXT --offline --json` does."""
    try:
        _, spec = load_spec_source(case["text"], offline=True)
        make_plan(spec)
    except SpecError as exc:
        said = str(exc).strip()
        return ("asked" if "expect" in case else "right"), said
    except Exception as exc:  # noqa: BLE001 - a traceback is no answer; it counts against
        return ("asked" if "expect" in case else "right"), f"crashed: {type(exc).__name__}: {exc}"
    if "expect" not in case:
        why = case.get("ambiguous") or case.get("error")
        return "wrong", f"planned {spec.total} images in {len(spec.classes)} classes ({why})"
    found = misplans(spec, case["expect"])
    return ("wrong", "; ".join(found)) if found else ("right", "")


def measure(cases: list[dict[str, Any]]) -> tuple[Counter, list[tuple[str, str]]]:
    """Counts per outcome (plus `planned`: requests with `expect` planned as asked) and the
    silent mis-plans as (text, what differs)."""
    counts: Counter = Counter()
    wrong = []
    for case in cases:
        kind, said = outcome(case)
        counts[kind] += 1
        counts["planned"] += kind == "right" and "expect" in case
        if kind == "wrong":
            wrong.append((case["text"], said))
    return counts, wrong


def level_problems(exp: dict[str, Any]) -> list[str]:
    """Factors and levels in `exp` that the vocabulary does not have."""
    named = {**exp.get("factors", {}), **{f: [lv] for f, lv in exp.get("fixed", {}).items()}}
    found = []
    for factor, levels in named.items():
        known = FACTORS.get(factor)
        if known is None:
            found.append(f"{factor!r} is no factor")
        elif levels != "balanced":  # else a mapping or a list, both naming levels
            found += [f"{factor}: {lv!r} is no level" for lv in levels if lv not in known]
    return found


def count_problems(exp: dict[str, Any]) -> list[str]:
    """Class counts must add up to the total; splits too when all three are named (a request
    may name only the test split and leave the others open), and never exceed it."""
    total, found = exp.get("total"), []
    classes, splits = exp.get("classes", {}), exp.get("splits", {})
    if classes and sum(classes.values()) != total:
        found.append(f"classes add up to {sum(classes.values())}, not {total}")
    named = sum(splits.values())
    if splits and (named > total or len(splits) == 3 and named != total):
        found.append(f"splits add up to {named}, not {total}")
    return found


def corpus_problems(case: dict[str, Any]) -> list[str]:
    """What makes an entry unusable as a yardstick: not exactly one answer, an unknown key,
    factor or level, or counts that do not add up."""
    answers = [k for k in ("expect", "ambiguous", "error") if k in case]
    if len(answers) != 1 or not str(case.get("text", "")).strip():
        return [f"needs a text and one of expect/ambiguous/error, has {sorted(case)}"]
    exp = case.get("expect")
    if exp is None:
        return [] if str(case[answers[0]]).strip() else ["says no reason"]
    if "total" not in exp:
        return ["no total"]
    unknown = [f"unknown key {k!r}" for k in set(exp) - EXPECT_KEYS]
    return unknown + level_problems(exp) + count_problems(exp)


def test_every_dev_request_states_one_answer_with_facts_that_add_up() -> None:
    cases = load()
    bad = {c.get("text", "?"): p for c in cases if (p := corpus_problems(c))}
    assert not bad, bad
    assert len(cases) >= 100
    assert len({c["text"] for c in cases}) == len(cases), "a request appears twice"


def test_the_corpus_check_catches_a_plan_that_drops_a_class() -> None:
    case = {"text": "300 faces: happy 100, sad 100, angry 100",
            "expect": {"total": 300, "classes": {"happy": 150, "sad": 150}}}
    assert outcome(case)[0] == "wrong"


def test_a_plan_for_a_request_the_corpus_calls_ambiguous_counts_as_wrong() -> None:
    assert outcome({"text": "500 faces", "ambiguous": "made up for this test"})[0] == "wrong"


def test_the_reader_does_no_worse_on_the_dev_requests_than_recorded() -> None:
    counts, wrong = measure(load())
    assert counts["right"] >= BASELINE_RIGHT, counts
    assert counts["planned"] >= BASELINE_PLANNED, counts
    assert counts["wrong"] <= BASELINE_WRONG, [text for text, _ in wrong]


def report(path: Path) -> int:
    """Print the three counts and each silent mis-plan; the number of silent mis-plans."""
    cases = load(path)
    counts, wrong = measure(cases)
    to_plan = [c for c in cases if "expect" in c]
    as_asked = counts["planned"]
    print(f"{path.name}: {len(cases)} requests ({len(to_plan)} to plan, "
          f"{len(cases) - len(to_plan)} to ask about or refuse)")
    print(f"  right  {counts['right']:4d}  ({as_asked}/{len(to_plan)} planned as asked, "
          f"{counts['right'] - as_asked}/{len(cases) - len(to_plan)} asked about or refused)")
    print(f"  asked  {counts['asked']:4d}  asked or refused where a careful reader would plan")
    print(f"  wrong  {counts['wrong']:4d}  planned wrong silently")
    for text, said in wrong:
        print(f"    {text!r}\n      {said[:200]}")
    return counts["wrong"]


if __name__ == "__main__":  # python -m tests.agent.language.test_requests_corpus [FILE]
    sys.exit(1 if report(Path(sys.argv[1]) if len(sys.argv) > 1 else DEV) else 0)
