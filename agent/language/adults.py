"""Levels drawn on adults only (`adult: true` in factors.yaml: stubble, a moustache, a beard)
against the people of a spec who are minors (age groups marked `minor: true`, ages under 18).

A class whose people are all minors may not ask for such a level: the spec is refused with one
line. Where a class mixes minor and adult age groups, the vocabulary's rule becomes a constraint
("when age_group=child, not facial_hair=beard") that the planner honours like one the person
wrote, so the levels land on adults only. The renderer never draws them on a minor either way.
"""

from __future__ import annotations

from typing import Any

from tools.vocabulary import ADULT_ONLY, MINOR_AGE_GROUPS, VOCABULARY


def _asked(spec: Any, fixed: dict[str, str]) -> list[tuple[str, str]]:
    """(factor, level) of every adults-only level a class with `fixed` levels can carry."""
    out = [(f, lv) for f, lv in fixed.items() if lv in ADULT_ONLY.get(f, ())]
    for factor in spec.factors:
        if factor.name in fixed:
            continue
        out += [
            (factor.name, lv)
            for lv, share in factor.targets().items()
            if share > 0 and lv in ADULT_ONLY.get(factor.name, ())
        ]
    return out


def _ages(spec: Any, fixed: dict[str, str]) -> set[str]:
    """The age groups a class's people can have by what the spec asks (empty: left open,
    and the renderer then draws adults for an adults-only level)."""
    if "age_group" in fixed:
        return {fixed["age_group"]}
    factor = spec.factor("age_group")
    if factor is not None:
        return {lv for lv, share in factor.targets().items() if share > 0}
    return set(spec.derived_levels().get("age_group", ()))


def minors_problem(spec: Any) -> str | None:
    """Why the spec asks an adults-only level of minors, in one line; None when it does not.
    Refused: a class whose people are all minors, or a numeric age range that reaches under
    18 (its ages cannot be kept apart from the level by a constraint)."""
    numeric = spec.factor("age") is not None and spec.factor("age_group") is None
    for c in spec.classes:
        asked = _asked(spec, c.attributes)
        ages = _ages(spec, c.attributes)
        minors = sorted(ages & MINOR_AGE_GROUPS)
        if not asked or not minors or (ages - MINOR_AGE_GROUPS and not numeric):
            continue
        factor, level = asked[0]
        title = VOCABULARY[factor].title
        who = (
            f"its age range reaches minors ({', '.join(minors)})"
            if numeric and ages - MINOR_AGE_GROUPS
            else f"its people are minors ({', '.join(minors)})"
        )
        return (
            f"class '{c.name}' asks for {title} '{level}', which is drawn on adults only, and "
            f"{who}: facetory never draws {title} on minors"
        )
    return None


def adult_rules(spec: Any) -> list[tuple[dict[str, str], dict[str, list[str]]]]:
    """(when, forbid) of the vocabulary's constraints this spec needs: each minor age group
    of its age-group factor forbids the adults-only levels the spec asks for."""
    factor = spec.factor("age_group")
    if factor is None:
        return []
    minors = [lv for lv, share in factor.targets().items() if share > 0 and lv in MINOR_AGE_GROUPS]
    forbid: dict[str, list[str]] = {}
    for c in spec.classes:
        for f, lv in _asked(spec, c.attributes):
            if lv not in forbid.setdefault(f, []):
                forbid[f].append(lv)
    if not forbid:
        return []
    return [({"age_group": m}, {f: sorted(lvs) for f, lvs in forbid.items()}) for m in minors]
