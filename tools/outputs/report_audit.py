"""The audit a face-data user expects: does each image show what was asked, for every group?

Three views, after the face-generation audit (arXiv 2309.07277) and the aging paper's check
of its age groups with an automatic age predictor (arXiv 2307.08585), all computed from what
the critic recorded on the manifest (`verified`, `measured`, `estimates`):

- faithfulness per requested attribute: the share of judged attempts verified to show it,
  by demographic group, with the widest gap between two groups named;
- the distribution of estimated ages per planned age group, and for identity datasets
  whether each person's estimated age rises with their planned age group;
- distribution shift: what was asked versus what the independent models see, per factor,
  as a total variation distance.

It counts every finished attempt, enforced or only measured: on a backend where age and gender
do not reject (the procedural renderer) they are the only place their drift shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from markupsafe import Markup

from tools.contracts import ManifestRecord, Status
from tools.outputs import report_charts as charts
from tools.vocabulary import AGE_GROUP_YEARS, FACTORS

#: The groups faithfulness is broken down by.
GROUPS: tuple[str, ...] = ("skin_tone", "age_group", "gender")
#: A group level needs this many judged attempts to enter the widest-gap comparison.
MIN_JUDGED = 5


def _finished(records: Sequence[ManifestRecord]) -> list[ManifestRecord]:
    return [r for r in records if r.status != Status.pending]


def _order(factor: str, level: str) -> tuple[int, str]:
    levels = FACTORS.get(factor, ())
    return (levels.index(level), level) if level in levels else (len(levels), level)


def faithfulness(records: Sequence[ManifestRecord]) -> list[dict[str, Any]]:
    """Per requested attribute the critic could tell: the verified share overall and per
    level of each demographic group, and the widest gap between two levels."""
    done = _finished(records)
    factors = sorted({f for r in done for f in r.verified})
    out = []
    for factor in factors:
        judged = [r for r in done if factor in r.verified]
        requested = sum(factor in r.attributes for r in done)
        overall = float(np.mean([r.verified[factor] for r in judged]))
        by_group, widest = {}, None
        for group in GROUPS:
            levels: dict[str, list[bool]] = defaultdict(list)
            for r in judged:
                if group in r.attributes:
                    levels[r.attributes[group]].append(r.verified[factor])
            if len(levels) < 2:
                continue
            rows = sorted(((lv, float(np.mean(v)), len(v)) for lv, v in levels.items()),
                          key=lambda row: _order(group, row[0]))
            by_group[group] = rows
            # an attribute by its own levels is shown (which levels it fails on) but is not a
            # gap between groups of people
            usable = [row for row in rows if row[2] >= MIN_JUDGED] if group != factor else []
            if len(usable) >= 2:
                best = max(usable, key=lambda row: row[1])
                worst = min(usable, key=lambda row: row[1])
                gap = best[1] - worst[1]
                if widest is None or gap > widest["gap"]:
                    widest = {"group": group, "gap": gap, "best": best[0], "best_rate": best[1],
                              "worst": worst[0], "worst_rate": worst[1]}
        out.append({"factor": factor, "judged": len(judged), "requested": requested,
                    "verified": overall, "groups": by_group, "widest": widest})
    return out


def age_estimates(records: Sequence[ManifestRecord]) -> dict[str, list[float]]:
    """Estimated ages (years) per planned age group, in vocabulary order."""
    ages: dict[str, list[float]] = defaultdict(list)
    for r in _finished(records):
        group = r.attributes.get("age_group")
        if group is not None and "age_years" in r.estimates:
            ages[group].append(r.estimates["age_years"])
    return {g: ages[g] for g in sorted(ages, key=lambda g: _order("age_group", g))}


def age_summary(ages: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Per planned age group: count, quartiles and the share inside the group's years."""
    rows = []
    for group, values in ages.items():
        low, high = AGE_GROUP_YEARS.get(group, (None, None))
        inside = (float(np.mean([low <= v < high for v in values]))
                  if low is not None and values else None)
        q1, median, q3 = (float(v) for v in np.percentile(values, [25, 50, 75]))
        rows.append({"group": group, "n": len(values), "q1": q1, "median": median, "q3": q3,
                     "years": (low, high), "inside": inside})
    return rows


def ages_rise(records: Sequence[ManifestRecord]) -> dict[str, Any] | None:
    """For identity datasets: whether each person's estimated age rises with the planned age
    group (median estimate per group, groups in order); None without such people."""
    per_person: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        group = r.attributes.get("age_group")
        if r.status == Status.accepted and r.identity and group and "age_years" in r.estimates:
            per_person[r.identity][group].append(r.estimates["age_years"])
    people = {p: g for p, g in per_person.items() if len(g) >= 2}
    if not people:
        return None
    rising, steps, up = 0, 0, 0
    for groups in people.values():
        in_order = sorted(groups, key=lambda g: _order("age_group", g))
        ordered = [float(np.median(groups[g])) for g in in_order]
        pairs = list(zip(ordered, ordered[1:], strict=False))
        rising += all(b > a for a, b in pairs)
        steps += len(pairs)
        up += sum(b > a for a, b in pairs)
    return {"people": len(people), "rising": rising / len(people), "steps_up": up / steps}


def asked_vs_seen(
    records: Sequence[ManifestRecord], asked: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """Per factor the critic measured: planned shares against the shares its models saw on
    the accepted images, and the total variation distance between them."""
    accepted = [r for r in records if r.status == Status.accepted]
    out = []
    for factor, planned in asked.items():
        seen_counts = Counter(r.measured[factor] for r in accepted if factor in r.measured)
        total = sum(seen_counts.values())
        if not total:
            continue
        levels = list(planned) + sorted(set(seen_counts) - set(planned),
                                        key=lambda lv: _order(factor, lv))
        seen = {lv: seen_counts.get(lv, 0) / total for lv in levels}
        tvd = 0.5 * sum(abs(planned.get(lv, 0.0) - seen[lv]) for lv in levels)
        out.append({"factor": factor, "tvd": tvd, "seen_n": total,
                    "rows": [(lv, planned.get(lv, 0.0), seen[lv]) for lv in levels]})
    return out


def view(records: Sequence[ManifestRecord], dists: list[dict[str, Any]]) -> dict[str, Any]:
    """The audit with its charts, for the report; `dists` is `report_analysis.distributions`
    (what was asked, per factor)."""
    asked = {d["factor"]: {lv: a for lv, a, _ in d["rows"]} for d in dists
             if d["factor"] != "class"}
    faithful = faithfulness(records)
    ages = age_estimates(records)
    seen = asked_vs_seen(records, asked)
    for d in seen:
        d["chart"] = Markup(charts.hbar_pairs(d["rows"], names=("asked", "seen"),
                                              label=f"asked vs seen {d['factor']}"))
    gaps = [f for f in faithful if f["widest"]]
    return {
        "faithfulness": faithful,
        "widest": max(gaps, key=lambda f: f["widest"]["gap"], default=None),
        "ages": age_summary(ages),
        "age_chart": Markup(charts.boxes(
            list(ages.items()), bands={g: AGE_GROUP_YEARS[g] for g in ages if g in AGE_GROUP_YEARS},
            max_value=80.0, label="estimated age per planned age group")) if ages else "",
        "rise": ages_rise(records),
        "seen": seen,
    }
