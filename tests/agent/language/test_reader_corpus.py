"""The offline reader reads requests the way people write them (issue 12).

Every request in `reader_corpus.yaml` is parsed and each fact its family states is compared
with the spec. `python -m tests.agent.language.test_reader_corpus [FILE]` prints per-family pass
counts
and `N/M requests read as asked` for this corpus or any file in the same format.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.language.parse import parse_spec
from agent.language.safety import RefusedError
from agent.language.spec import DatasetSpec, SpecError
from tools.vocabulary import FACTORS

CORPUS = Path(__file__).with_name("reader_corpus.yaml")
SHARE_TOLERANCE = 0.01


def load(path: Path = CORPUS) -> list[dict[str, Any]]:
    """Families of requests; a single `request:` is a family of one."""
    families = yaml.safe_load(path.read_text(encoding="utf-8"))
    for family in families:
        if "request" in family:
            family["requests"] = [family.pop("request")]
    return families


def norm(name: str) -> str:
    """Class names compare loosely: case, spaces, hyphens, underscores and a plural 's'."""
    key = re.sub(r"[^a-z0-9]+", "", str(name).lower())
    return key[:-1] if key.endswith("s") else key


def shares(spec: DatasetSpec, factor: str) -> dict[str, float]:
    """Share of the dataset at each level of `factor`, from class-fixed levels, the factor's
    own targets, or levels implied by another factor (a numeric age range -> age group)."""
    own = spec.factor(factor)
    implied = [(f.targets(), f.derived()) for f in spec.factors if f.derived()]
    out: dict[str, float] = {}
    for c in spec.classes:
        weight = c.quota / spec.total
        if factor in c.attributes:
            parts = {c.attributes[factor]: 1.0}
        elif own is not None:
            parts = own.targets()
        else:
            parts = {}
            for targets, derived in implied:
                for bucket, share in targets.items():
                    level = derived.get(bucket, {}).get(factor)
                    if level is not None:
                        parts[level] = parts.get(level, 0.0) + share
        for level, share in parts.items():
            out[level] = out.get(level, 0.0) + weight * share
    return {level: share for level, share in out.items() if share > 0}


def factor_problems(spec: DatasetSpec, name: str, want: Any) -> list[str]:
    got = shares(spec, name)
    shown = {k: round(v, 3) for k, v in got.items()}
    if want == "balanced":
        own = spec.factor(name)
        levels = FACTORS.get(name) or (own.level_names() if own else [])
        if set(got) != set(levels) or any(
            abs(got[lv] - 1 / len(levels)) > SHARE_TOLERANCE for lv in levels
        ):
            return [f"{name} not balanced over {list(levels)}: {shown}"]
    elif isinstance(want, list):
        if set(got) != set(want):
            return [f"{name} levels {sorted(got)} != {sorted(want)}"]
    else:
        off = {lv: s for lv, s in want.items() if abs(got.get(lv, 0.0) - s) > SHARE_TOLERANCE}
        if off:
            return [f"{name} shares {shown} != {want}"]
    return []


def fact_problems(spec: DatasetSpec, exp: dict[str, Any]) -> list[str]:
    """Every stated fact in `exp` that the spec gets wrong, in words."""
    problems = []
    if "total" in exp and spec.total != exp["total"]:
        problems.append(f"total {spec.total} != {exp['total']}")
    problems += class_problems(spec, exp)
    for name, want in exp.get("factors", {}).items():
        problems += factor_problems(spec, name, want)
    for split, count in exp.get("splits", {}).items():
        got_count = spec.splits.shares()[split] * spec.total
        if abs(got_count - count) > 1:
            problems.append(f"{split} split {got_count:g} != {count}")
    problems += identity_problems(spec, exp)
    if "faces_per_image" in exp:
        want = exp["faces_per_image"]
        want = (want, want) if isinstance(want, int) else tuple(want)
        if spec.faces_range() != want:
            problems.append(f"faces per image {spec.faces_range()} != {want}")
    for key in ("task", "image_size"):
        if key in exp and getattr(spec, key) != exp[key]:
            problems.append(f"{key} {getattr(spec, key)!r} != {exp[key]!r}")
    return problems


def class_problems(spec: DatasetSpec, exp: dict[str, Any]) -> list[str]:
    """The classes' quotas and the levels each class fixes, where `exp` states them."""
    problems = []
    classes = {norm(c.name): c for c in spec.classes}
    if "classes" in exp:
        got = {c.name: c.quota for c in spec.classes}
        if {norm(k): v for k, v in got.items()} != {norm(k): v for k, v in exp["classes"].items()}:
            problems.append(f"classes {got} != {exp['classes']}")
    for name, fixed in exp.get("class_attributes", {}).items():
        c = classes.get(norm(name))
        have = c.attributes if c else {}
        if any(have.get(f) != lv for f, lv in fixed.items()):
            problems.append(f"class {name!r} fixes {have}, not {fixed}")
    return problems


def identity_problems(spec: DatasetSpec, exp: dict[str, Any]) -> list[str]:
    """The number of people and of images per person, where `exp` states them."""
    problems = []
    ids = spec.identities
    if "identities" in exp and (ids is None or ids.count != exp["identities"]):
        problems.append(f"identities {ids and ids.count} != {exp['identities']}")
    if "images_per_identity" in exp and (
        ids is None or ids.images_per_identity != exp["images_per_identity"]
    ):
        got_per = ids and ids.images_per_identity
        problems.append(f"images per identity {got_per} != {exp['images_per_identity']}")
    return problems


def problems(text: str, family: dict[str, Any]) -> list[str]:
    """What the reader got wrong about one request of `family` (empty: read as asked)."""
    must_fail = "error" in family or family.get("refused")
    try:
        spec = parse_spec(text, offline=True)
    except SpecError as exc:
        if not must_fail:
            return [f"failed: {exc}"]
        if family.get("refused") and not isinstance(exc, RefusedError):
            return [f"not refused as unsafe: {exc}"]
        missing = [w for w in family.get("error", []) if w.lower() not in str(exc).lower()]
        return [f"message {str(exc)!r} does not name {missing}"] if missing else []
    except Exception as exc:  # a crash is a misreading too, whatever the family expects
        return [f"crashed: {type(exc).__name__}: {exc}"]
    if must_fail:
        return [f"should fail, but read as {spec.total} images in {len(spec.classes)} classes"]
    return fact_problems(spec, family["expect"])


def _case(family: dict[str, Any], i: int, text: str) -> Any:
    """One request; those the family lists under `misread` (1-based, with the reason) are
    expected to fail, strictly: reading one right fails the test until the entry is removed."""
    why = (family.get("misread") or {}).get(i)
    marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
    return pytest.param(text, family, id=f"{family['family']}-{i}", marks=marks)


CASES = [
    _case(family, i, text)
    for family in load()
    for i, text in enumerate(family["requests"], 1)
]


@pytest.mark.parametrize(("text", "family"), CASES)
def test_the_reader_reads_each_request_as_asked(text: str, family: dict[str, Any]) -> None:
    found = problems(text, family)
    assert not found, f"{text!r}: " + "; ".join(found)


def summary(path: Path) -> int:
    """Print each family's pass count and the overall figure; the number of misreadings."""
    families = load(path)
    passed = total = 0
    for family in families:
        results = [problems(text, family) for text in family["requests"]]
        ok = sum(not r for r in results)
        first = next((r[0] for r in results if r), "")
        print(f"{ok}/{len(results)}  {family['family']:<36} {first[:110]}")
        passed, total = passed + ok, total + len(results)
    print(f"{passed}/{total} requests read as asked")
    return total - passed


if __name__ == "__main__":  # python -m tests.agent.language.test_reader_corpus [FILE]
    sys.exit(1 if summary(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS) else 0)
