"""What the words asked for (a Draft), and how a Draft becomes DatasetSpec data.

The reader fills a Draft; `build` turns it into spec data with every count settled: class
quotas from totals, per-class counts, shares or identities, factors with their levels and
shares, and errors that name both sides of a contradiction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.language.reader.words import ADULT, level_of, levels_of
from agent.language.spec import DEFAULT_VAL_SHARE, MAX_IMAGES, SpecError
from tools.vocabulary import (
    AGE_GROUP_YEARS,
    FACTORS,
    IDENTITY_SCOPE,
    MINOR_AGE_GROUPS,
    VOCABULARY,
    WORN,
)

_ADULT_NAME = re.compile(r"(?:the\s+)?(?:adults?|grown[- ]?ups?)")

#: When percentages name only some levels, the rest goes to this level (else: spread equally).
REST = {f: fw.rest for f, fw in VOCABULARY.items() if fw.rest}
#: What a worn factor (eyewear, headwear, mask) is when a list of its levels leaves it out.
ACCESSORY_NONE = {f: "none" for f in WORN}


@dataclass
class Draft:
    """What the words asked for, before it becomes a DatasetSpec."""

    name: str | None = None
    task: str | None = None
    total: int | None = None
    per_class: int | None = None
    per_cell: int | None = None
    class_factor: str | None = None
    classes: list[tuple[str, int | None]] = field(default_factory=list)
    class_count: int | None = None
    class_shares: dict[str, float] = field(default_factory=dict)
    split_parts: dict[str, float] = field(default_factory=dict)
    split_unit: str | None = None
    """'%' or 'images' where a split part said which ('test 20%', 'hold out 50 images')."""
    """Split parts as written: shares summing to 1 or 100, or image counts summing to the total."""
    people: int | None = None
    """A number of people said without images per person ('600 faces of 60 people')."""
    per_person_levels: int | None = None
    """'each shown once in every age group': images per person, from the levels."""
    identity_intent: bool = False
    """'a face verification set': an identity dataset, even before people are counted."""
    hint: str | None = None
    """The factor a 'glasses detector' or 'emotion classifier' tells apart."""
    hinted_shares: list[tuple[str, float]] = field(default_factory=list)
    share_words: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    """Shares as the person wrote them, per factor, when no factor name was said with them."""
    """Shares of that factor's levels, in the person's words: classes when none are named."""
    balanced: dict[str, list[str] | None] = field(default_factory=dict)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    image_scope: set[str] = field(default_factory=set)
    age: tuple[int, int, int | None] | None = None
    identities: tuple[int, int] | None = None
    faces: int | tuple[int, int] | None = None
    constraints: list[dict[str, Any]] = field(default_factory=list)
    children: bool = False
    adults: bool = False
    top: dict[str, Any] = field(default_factory=dict)


def _age_factor(lo: int, hi: int, bins: int | None) -> dict[str, Any]:
    bounds = sorted({b for lo_b, _ in AGE_GROUP_YEARS.values() for b in (lo_b,) if lo < b <= hi})
    numeric: dict[str, Any] = {"low": lo, "high": hi, "unit": "years"}
    if bins is not None:
        numeric["bins"] = bins
    elif bounds and bounds[-1] <= hi - 1:
        numeric["edges"] = [lo, *[b for b in bounds if b < hi], hi]
    else:
        numeric["bins"] = max(1, min(3, hi - lo))
    return {"name": "age", "numeric": numeric, "balanced": True}


def _class_name_level(name: str, factor: str | None) -> tuple[str, str] | None:
    hit = level_of(name, factor)
    if hit is None and "/" in name:
        for part in name.split("/"):
            hit = level_of(part, factor)
            if hit is not None:
                break
    return hit


def _adult_ages(children: bool) -> dict[str, Any]:
    """'adults': the adult age groups, equally; 'kids and adults': half children, half adults
    (read as adults only, the children were dropped without a word)."""
    if not children:
        return {"name": "age_group", "balanced": True, "levels": [{"name": n} for n in ADULT]}
    adult = 0.5 / len(ADULT)
    levels = [{"name": "child", "proportion": 0.5}]
    levels += [{"name": n, "proportion": adult} for n in ADULT]
    return {"name": "age_group", "levels": levels}


def build(d: Draft) -> dict[str, Any]:
    """The spec data for a Draft: factors, then classes, quotas, splits and the rest."""
    spec: dict[str, Any] = {"name": d.name or "dataset", **d.top}
    written = sum(d.split_parts.values())
    if d.total is None and d.per_class is None and len(d.split_parts) == 3 and written > 100:
        d.total = int(written)  # 'train 800 / val 100 / test 100': the images, counted
    if d.task:
        spec["task"] = d.task
    factors = _factors(d)
    classes = _classes(d, factors, spec)
    _quotas(d, classes, factors)
    if d.split_parts:
        spec["splits"] = _splits(d.split_parts, sum(c["quota"] for c in classes), d.split_unit)
    spec["classes"] = classes
    spec["factors"] = list(factors.values())
    if d.constraints:
        _check_constraints(d.constraints, factors)
        spec["constraints"] = d.constraints
    if d.identities is not None:
        spec["identities"] = {"count": d.identities[0], "images_per_identity": d.identities[1]}
    if d.faces is not None:
        spec["faces_per_image"] = d.faces
    return spec


def _factors(d: Draft) -> dict[str, dict[str, Any]]:
    """Factors from balanced words, shares, fixed levels and ages, in that order."""
    factors: dict[str, dict[str, Any]] = {}
    for f, levels in d.balanced.items():
        names = levels or list(FACTORS[f])
        if f == "age_group" and levels is None and d.adults:
            names = list(ADULT)
        factors[f] = {"name": f, "balanced": True, "levels": [{"name": n} for n in names]}
    for f, shares in d.shares.items():
        factors[f] = {"name": f, "levels": _share_levels(d, f, shares)}
    for f, level in d.fixed.items():
        if f in factors:
            raise SpecError(f"{f} is both fixed to {level} and varied")
        factors[f] = {"name": f, "levels": [{"name": level}]}
    _ages_and_scope(d, factors)
    return factors


def _ages_and_scope(d: Draft, factors: dict[str, dict[str, Any]]) -> None:
    """An age range or 'adults' as a factor; a person's intrinsic factors kept per person."""
    if d.age is not None:
        if "age_group" in factors:
            raise SpecError("give either an age range or age groups, not both")
        factors["age"] = _age_factor(*d.age)
    elif d.adults and "age_group" not in factors:
        factors["age_group"] = _adult_ages(d.children)
    elif d.adults and _minor_levels(factors["age_group"]):
        minors = " and ".join(_minor_levels(factors["age_group"]))
        raise SpecError(
            f"not planned, so as not to guess: 'adults' beside {minors} - which age groups are "
            "the adults, and what share? say e.g. 'a third children, a third young adults, "
            "a third elderly'"
        )
    if d.identities is not None:
        for f, body in factors.items():
            if f in IDENTITY_SCOPE and f not in d.image_scope:
                body["scope"] = "identity"


def _minor_levels(factor: dict[str, Any]) -> list[str]:
    """The minors' age groups a factor draws ('adults' said beside them leaves the adults open)."""
    return [lv["name"] for lv in factor["levels"]
            if lv["name"] in MINOR_AGE_GROUPS and lv.get("proportion", 1) > 0]


def _adult_classes(classes: list[dict[str, Any]], factors: dict[str, Any]) -> None:
    """A class named 'adults' fixes no one age group: the classes without one draw the adult
    age groups, equally (a class fixes one level per factor; the levels other classes fix
    stay in the factor at no share)."""
    loose = [c["name"] for c in classes if "age_group" not in c["attributes"]]
    adults = [n for n in loose if _ADULT_NAME.fullmatch(n.strip().lower())]
    if not adults or "age_group" in factors or "age" in factors:
        return
    if len(loose) > len(adults):
        raise SpecError(
            f"not planned, so as not to guess: class '{adults[0]}' draws adults, class "
            f"'{(set(loose) - set(adults)).pop()}' no age group: give it one, or say the ages"
        )
    fixed = {c["attributes"]["age_group"] for c in classes if "age_group" in c["attributes"]}
    levels = [{"name": n, "proportion": 1 / len(ADULT)} for n in ADULT]
    levels += [{"name": n, "proportion": 0.0} for n in sorted(fixed - set(ADULT))]
    factors["age_group"] = {"name": "age_group", "levels": levels}


def _share_levels(d: Draft, f: str, shares: dict[str, float]) -> list[dict[str, Any]]:
    """A factor's levels from shares of some of them: the rest to its rest level ('none'),
    else spread over the levels not named."""
    total = sum(shares.values())
    if total > 1 + 1e-6:
        parts = ", ".join(f"{lv} {v * 100:g}%" for lv, v in shares.items())
        raise SpecError(f"{f} shares add up to {total * 100:g}% ({parts}), over 100%")
    levels = [{"name": lv, "proportion": v} for lv, v in shares.items()]
    if total >= 1 - 1e-6:
        return levels
    allowed = d.balanced.get(f) or list(FACTORS[f])
    if f in REST and REST[f] not in shares:
        rest = [REST[f]]
    else:
        rest = [lv for lv in allowed if lv not in shares]
    if not rest:
        raise SpecError(f"{f} shares add up to {total * 100:g}%, not 100%")
    return levels + [{"name": lv} for lv in rest]


def _classes_from_shares(d: Draft) -> None:
    """No class list: shares of every level of one factor are the classes ('mask detection,
    60% masked and 40% unmasked')."""
    if d.classes:
        return
    if d.hinted_shares:
        d.classes = [(name, None) for name, _ in d.hinted_shares]
        d.class_shares = dict(d.hinted_shares)
        d.class_factor = d.hint
        return
    for f, words in d.share_words.items():
        shares = d.shares.get(f, {})
        if len(shares) >= 2 and abs(sum(shares.values()) - 1) < 1e-6 and len(words) == len(shares):
            d.classes = [(w, None) for w, _ in words]
            d.class_shares = dict(words)
            d.class_factor = f
            del d.shares[f]
            return


def _preferred_factor(d: Draft) -> str | None:
    """The factor the class names share ('black' beside 'blond': hair colour), if one wins,
    else the one factor every name is a level of ('none' beside 'glasses': eyewear)."""
    if d.class_factor is not None or len(d.classes) < 2:
        return d.class_factor
    votes: dict[str, int] = {}
    for name, _ in d.classes:
        for f in {f for f, _ in levels_of(name)}:
            votes[f] = votes.get(f, 0) + 1
    best = max(votes.items(), key=lambda kv: kv[1], default=(None, 0))
    if best[1] >= 2 and list(votes.values()).count(best[1]) == 1:
        return best[0]
    covering = [f for f in votes if all(_class_name_level(n, f) for n, _ in d.classes)]
    return covering[0] if len(covering) == 1 else None  # 'glasses and none': eyewear none


def _class_attributes(d: Draft, name: str, preferred: str | None, factors: dict) -> dict:
    """The levels a class's name fixes (its class factor's, or the preferred factor's)."""
    hit = _class_name_level(name, d.class_factor)
    if hit is None or preferred != d.class_factor:
        hit = _class_name_level(name, preferred) or hit
    if d.class_factor and hit is None:
        raise SpecError(
            f"class '{name}' is not a level of {d.class_factor} "
            f"({', '.join(FACTORS[d.class_factor])})"
        )
    if hit is not None and (d.class_factor or hit[0] not in factors):
        return {hit[0]: hit[1]}
    return {}


def _classes(d: Draft, factors: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The class entries (quotas still open where the words gave none)."""
    fixed_child = d.children and d.age is None and "age_group" not in factors
    if d.class_factor and d.class_factor in factors:
        raise SpecError(f"{d.class_factor} is the class and also balanced; drop one of the two")
    _classes_from_shares(d)
    preferred = _preferred_factor(d)
    child = {"age_group": "child"} if fixed_child else {}
    classes = [
        {"name": name, "quota": count,
         "attributes": {**_class_attributes(d, name, preferred, factors), **child}}
        for name, count in d.classes
    ]
    if d.class_count is not None and d.classes and d.class_count != len(d.classes):
        raise SpecError(f"{d.class_count} classes announced but {len(d.classes)} listed")
    if d.children:
        spec["subject"] = "children"
    if classes:
        _adult_classes(classes, factors)
        return classes
    n = d.class_count or 1
    if n != 1:
        raise SpecError(f"{n} classes announced but none named; list them after 'classes:'")
    return [{"name": "face", "quota": None, "attributes": dict(child)}]


def _check_constraints(constraints: list[dict[str, Any]], factors: dict[str, Any]) -> None:
    for con in constraints:
        for f in [*con["when"], *con["forbid"]]:
            if f not in factors:
                raise SpecError(
                    f"a constraint names {f}, which the request does not plan; "
                    f"add it (e.g. '20% {f.replace('_', ' ')} ...') or drop the constraint"
                )


def _grid_total(d: Draft, n_classes: int, factors: dict[str, Any]) -> int | None:
    """'25 per combination': the total is the grid of balanced levels times the classes."""
    if d.per_cell is None:
        return d.total
    cells = 1
    for body in factors.values():
        if body.get("balanced"):
            cells *= len(body["levels"])
    grid_total = d.per_cell * cells * n_classes
    if d.total is not None and d.total != grid_total:
        raise SpecError(
            f"{d.per_cell} per combination x {cells} combinations = {grid_total}, "
            f"but the request says {d.total} images"
        )
    return grid_total


def _people_total(d: Draft, total: int | None) -> int | None:
    """People x images per person; a people count alone takes the images each from the total."""
    if d.identities is None and d.people is not None and total is None and d.per_person_levels:
        d.identities = (d.people, d.per_person_levels)
    if d.identities is None and d.people is not None:
        if total is None or total % d.people:
            raise SpecError(
                f"{d.people} people: how many images each? say e.g. '{d.people} people, 10 "
                "images each'"
            )
        d.identities = (d.people, total // d.people)
    if d.identities is None:
        return total
    people_total = d.identities[0] * d.identities[1]
    if total is not None and total != people_total:
        raise SpecError(
            f"{d.identities[0]} people x {d.identities[1]} images = {people_total}, "
            f"but the request says {total} images"
        )
    return people_total


def _share_quotas(d: Draft, classes: list[dict[str, Any]], total: int | None) -> None:
    shares = d.class_shares
    if not shares:
        return
    if sum(shares.values()) > 1 + 1e-6:
        parts = ", ".join(f"{n} {v * 100:g}%" for n, v in shares.items())
        raise SpecError(f"class shares add up to {sum(shares.values()) * 100:g}% ({parts})")
    if total is None:
        raise SpecError("how many images? class shares need a total, e.g. '500 faces'")
    for c in classes:
        if c["name"] in shares and c["quota"] is None:
            c["quota"] = round(shares[c["name"]] * total)


def _fill_quotas(d: Draft, classes: list[dict[str, Any]], total: int | None) -> None:
    """Per-class counts, then the rest of the total spread over the classes still open."""
    given = [c["quota"] for c in classes if c["quota"] is not None]
    for c in classes:
        if c["quota"] is None and d.per_class is not None:
            c["quota"] = d.per_class
    missing = [c for c in classes if c["quota"] is None]
    if not missing:
        return
    if total is None:
        raise SpecError("how many images? say e.g. '300 faces' or '100 per class'")
    rest = total - sum(given)
    if rest < len(missing):
        raise SpecError(f"{total} images cannot cover {len(classes)} classes")
    base, extra = divmod(rest, len(missing))
    for i, c in enumerate(missing):
        c["quota"] = base + (1 if i < extra else 0)


def _quotas(d: Draft, classes: list[dict[str, Any]], factors: dict[str, Any]) -> None:
    total = _people_total(d, _grid_total(d, len(classes), factors))
    _share_quotas(d, classes, total)
    _fill_quotas(d, classes, total)
    quota_total = sum(c["quota"] for c in classes)
    if total is not None and quota_total != total:
        raise SpecError(
            f"the class counts add up to {quota_total}, but the request says {total} images"
        )
    for c in classes:
        if c["quota"] < 1:
            raise SpecError(f"class '{c['name']}' needs at least one image, got {c['quota']}")
        if c["quota"] > MAX_IMAGES:
            raise SpecError(f"{c['quota']:,} images is over the limit of {MAX_IMAGES:,}")


def _with_val(shares: dict[str, Any], parts: dict[str, float]) -> dict[str, Any]:
    """A split that leaves validation out without saying so ('80/20 train/test') gets a small
    validation share from train ('no validation set' and 'val 0' are kept as said)."""
    if "val" in parts or shares["val"] > 1e-9 or shares["train"] < 2 * DEFAULT_VAL_SHARE:
        return shares
    train = round(shares["train"] - DEFAULT_VAL_SHARE, 9)
    return {**shares, "train": train, "val": DEFAULT_VAL_SHARE, "val_from_train": True}


def _splits(parts: dict[str, float], total: int, unit: str | None = None) -> dict[str, Any]:
    """Split parts as written -> train/val/test shares (missing parts are 0, or the rest)."""
    written = sum(parts.values())
    if unit is None and written < 100 and len(parts) < 3 and total > 100 and written > 1:
        said = " and ".join(f"{k} {v:g}" for k, v in parts.items())
        raise SpecError(f"not planned, so as not to guess: '{said}' - images or percent? say "
                        f"e.g. '{next(iter(parts))} {next(iter(parts.values())):g} images' or "
                        f"'{next(iter(parts))} {next(iter(parts.values())):g}%'")
    scales = (float(total),) if unit == "images" else (1.0, 100.0, float(total))
    for scale in scales:
        if abs(written - scale) < 1e-6 * max(1.0, scale) or (
            len(parts) < 3 and written < scale
            and (scale != total or written > 100 or unit == "images")
        ):  # 'hold out 500 (of 2000) for testing': images; 'test 20 and val 80': percentages
            shares = {k: v / scale for k, v in parts.items()}
            missing = [k for k in ("train", "val", "test") if k not in shares]
            left = 1 - sum(shares.values())
            for k in missing:  # train takes the rest ('hold out 20% to test')
                shares[k] = max(left, 0.0) if k == "train" or len(missing) == 1 else 0.0
            if abs(sum(shares.values()) - 1) < 1e-6:
                return _with_val({k: shares[k] for k in ("train", "val", "test")}, parts)
    said = ", ".join(f"{k} {v:g}" for k, v in parts.items())
    raise SpecError(f"the split ({said}) adds up to {written:g}, not 100% or {total:,} images")
