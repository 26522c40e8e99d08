"""The balanced planner: exact quotas, levels within one image, pairs within one of expected,
constraints honoured, identities kept whole, and the same plan for the same spec and seed."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from agent.language.parse import load_spec_source
from agent.language.spec import DatasetSpec, SpecError
from agent.planning.balance import largest_remainder
from agent.planning.plan_file import render_plan
from agent.planning.planner import make_plan
from tools.vocabulary import FACTORS

SPECS = Path(__file__).resolve().parents[3] / "specs"


def example(name: str) -> DatasetSpec:
    return load_spec_source(str(SPECS / f"{name}.txt"), offline=True)[1]


def balanced(name: str, n: int | None = None) -> dict:
    levels = FACTORS[name][: n or len(FACTORS[name])]
    return {"name": name, "balanced": True, "levels": [{"name": lv} for lv in levels]}


def pair_deviation(items, a: str, b: str) -> float:
    n = len(items)
    pairs = Counter((it.attributes[a], it.attributes[b]) for it in items)
    na = Counter(it.attributes[a] for it in items)
    nb = Counter(it.attributes[b] for it in items)
    return max(abs(pairs.get((x, y), 0) - na[x] * nb[y] / n) for x in na for y in nb)


def test_largest_remainder_is_exact_and_within_one():
    counts = largest_remainder(100, np.array([1, 1, 1, 1, 1, 1]) / 6)
    assert counts.sum() == 100 and set(counts) == {16, 17}
    assert list(largest_remainder(10, np.array([0.25, 0.75]))) == [3, 7]


def test_quickstart_plan_is_exact_per_class():
    spec = example("quickstart")
    plan = make_plan(spec)
    by_class = defaultdict(list)
    for item in plan.items:
        by_class[item.class_name].append(item)
    assert {k: len(v) for k, v in by_class.items()} == {
        "none": 100,
        "glasses": 100,
        "sunglasses": 100,
    }
    for cname, items in by_class.items():
        assert {it.attributes["eyewear"] for it in items} == {cname}
        assert Counter(it.split for it in items) == {"train": 80, "val": 10, "test": 10}
        for f in spec.factors:
            counts = Counter(it.attributes[f.name] for it in items)
            for level, share in f.targets().items():
                assert abs(counts[level] - 100 * share) < 1
        names = [f.name for f in spec.factors]
        for i, a in enumerate(names):
            for b in names[:i]:
                assert pair_deviation(items, a, b) <= 1 + 1e-9
    assert plan.balance()["pairwise"] <= 1 + 1e-9


def random_spec(rng: np.random.Generator, low: int, high: int) -> DatasetSpec:
    names = rng.choice(list(FACTORS), size=int(rng.integers(1, 6)), replace=False)
    factors = []
    for name in names:
        levels = list(FACTORS[name][: int(rng.integers(2, len(FACTORS[name]) + 1))])
        if rng.random() < 0.5:
            factors.append(
                {"name": name, "balanced": True, "levels": [{"name": lv} for lv in levels]}
            )
        else:
            p = rng.random(len(levels)) + 0.1
            p = np.round(p / p.sum(), 3)
            factors.append(
                {
                    "name": name,
                    "levels": [
                        {"name": lv, "proportion": float(q)}
                        for lv, q in zip(levels[:-1], p, strict=False)
                    ]
                    + [{"name": levels[-1]}],
                }
            )
    classes = [
        {"name": f"c{i}", "quota": int(rng.integers(low, high))}
        for i in range(int(rng.integers(1, 3)))
    ]
    return DatasetSpec.from_data(
        {"classes": classes, "factors": factors, "seed": int(rng.integers(1000))}
    )


def test_random_specs_are_balanced_to_within_one_image():
    """Hypothesis-free property test: many random specs, every level within one image of its
    target share and every pair of factors within one image of its expected count."""
    rng = np.random.default_rng(20240611)
    for _ in range(25):
        spec = random_spec(rng, 100, 400)
        plan = make_plan(spec)
        report = plan.balance()
        assert report["marginal"] < 1, spec
        assert report["pairwise"] <= 1 + 1e-9, spec
        assert Counter(it.class_name for it in plan.items) == {
            c.name: c.quota for c in spec.classes
        }


def test_small_classes_stay_close_where_the_counts_do_not_allow_exactness():
    rng = np.random.default_rng(7)
    for _ in range(20):
        spec = random_spec(rng, 5, 100)
        report = make_plan(spec).balance()
        assert report["marginal"] < 1
        assert report["pairwise"] <= 1.5, spec


def test_planning_beats_independent_random_sampling():
    spec = DatasetSpec.from_data(
        {
            "classes": [{"name": "face", "quota": 6000}],
            "factors": [balanced("skin_tone"), balanced("age_group"), balanced("expression")],
        }
    )
    plan = make_plan(spec)
    rng = np.random.default_rng(0)
    sampled = Counter(rng.integers(0, 10, 6000).tolist())
    assert max(abs(v - 600) for v in sampled.values()) > 3  # sampling misses by ~sqrt(n)
    assert plan.balance()["marginal"] < 1 and plan.balance()["pairwise"] <= 1 + 1e-9


def test_constraints_are_honoured_and_balance_holds_elsewhere():
    plan = make_plan(example("crowd_detection"))
    items = list(plan.items)
    assert not any(
        it.attributes["eyes"] == "closed" and it.attributes["eyewear"] == "sunglasses"
        for it in items
    )
    counts = Counter(it.attributes["eyewear"] for it in items)
    assert counts == {"sunglasses": 180, "none": 420}
    assert Counter(it.faces for it in items) == {1: 150, 2: 150, 3: 150, 4: 150}
    assert pair_deviation(items, "skin_tone", "mask") <= 1 + 1e-9


def test_an_infeasible_request_names_the_conflicting_parts():
    spec = DatasetSpec.from_data(
        {
            "classes": [{"name": "face", "quota": 100}],
            "factors": [
                {
                    "name": "eyes",
                    "levels": [{"name": "closed", "proportion": 0.8}, {"name": "open"}],
                },
                {
                    "name": "eyewear",
                    "levels": [{"name": "sunglasses", "proportion": 0.5}, {"name": "none"}],
                },
            ],
            "constraints": [{"when": {"eyes": "closed"}, "forbid": {"eyewear": ["sunglasses"]}}],
        }
    )
    with pytest.raises(SpecError) as err:
        make_plan(spec)
    text = str(err.value)
    for part in ("class 'face'", "when eyes=closed, not eyewear=sunglasses", "eyes=closed 80",
                 "eyewear=sunglasses 50", "of 100 images"):  # fmt: skip
        assert part in text


def test_a_class_that_fixes_a_forbidden_level_is_named():
    spec = DatasetSpec.from_data(
        {
            "classes": [
                {
                    "name": "shades",
                    "quota": 10,
                    "attributes": {"eyewear": "sunglasses", "eyes": "closed"},
                }
            ],
            "factors": [
                {
                    "name": "eyes",
                    "levels": [{"name": "closed", "proportion": 0.2}, {"name": "open"}],
                },
                {"name": "eyewear", "levels": [{"name": "sunglasses"}, {"name": "none"}]},
            ],
            "constraints": [{"when": {"eyes": "closed"}, "forbid": {"eyewear": ["sunglasses"]}}],
        }
    )
    with pytest.raises(SpecError, match="class 'shades' fixes eyes=closed, eyewear=sunglasses"):
        make_plan(spec)


def test_same_spec_and_seed_give_the_same_bytes_and_another_seed_does_not():
    spec = example("quickstart")
    first, second = render_plan(make_plan(spec)), render_plan(make_plan(spec))
    assert first == second
    other = make_plan(spec.model_copy(update={"seed": 8}))
    assert render_plan(other) != first


def test_identity_datasets_keep_each_person_whole():
    spec = example("identity_conditioned")
    plan = make_plan(spec)
    people = defaultdict(list)
    for item in plan.items:
        people[item.identity].append(item)
    assert len(people) == 50 and {len(v) for v in people.values()} == {40}
    assert sorted(people)[0] == "id-0001"
    for items in people.values():
        assert (
            len({(it.split, it.attributes["gender"], it.attributes["skin_tone"]) for it in items})
            == 1
        )
        for factor in ("head_pose", "lighting", "background"):  # 4 levels: 10 each, within one
            assert set(Counter(it.attributes[factor] for it in items).values()) <= {9, 10, 11}
        assert set(Counter(it.attributes["expression"] for it in items).values()) <= {6, 7}
    person_split = Counter(items[0].split for items in people.values())
    assert person_split == {"train": 40, "val": 5, "test": 5}
    assert plan.balance()["pairwise"] <= 1 + 1e-9


def test_age_progression_shows_each_person_once_per_age_group():
    plan = make_plan(example("age_progression"))
    people = defaultdict(list)
    for item in plan.items:
        people[item.identity].append(item.attributes["age_group"])
    assert all(sorted(groups) == sorted(FACTORS["age_group"]) for groups in people.values())


def test_numeric_ages_carry_their_age_group_and_reach_the_prompt():
    plan = make_plan(example("child_ethnicity"))
    item = plan.items[0]
    assert item.attributes["age"] in ("4-6", "7-9", "10-12")
    assert item.attributes["age_group"] == "child"
    assert f"aged {item.attributes['age']}" in item.prompt
    assert "nsfw" in item.negative_prompt


def test_ids_seeds_and_items_are_stable_and_distinct():
    plan = make_plan(example("quickstart"))
    items = list(plan.items)
    ids = [it.id for it in items]
    assert ids[:2] == ["none-000001", "none-000002"] and len(set(ids)) == len(ids)
    for cname in ("none", "glasses", "sunglasses"):
        seeds = [it.seed for it in items if it.class_name == cname]
        assert len(set(seeds)) == len(seeds) and all(0 <= s < 2**31 for s in seeds)
    assert plan.items[5] == items[5]
    replaced = plan.model_copy(update={"items": items[:150]})
    assert replaced.summary()["total"] == 150


WORN = ("eyewear", "hat", "mask")


def test_a_request_that_never_mentions_what_is_worn_plans_nothing_worn_and_lists_what_varies():
    spec = load_spec_source("24 faces of children", offline=True)[1]
    plan = make_plan(spec)
    for it in plan.items:
        assert it.attributes == {"age_group": "child"}
        assert not set(WORN) & set(it.variation) and "eyes" not in it.variation
        assert {"head_pose", "lighting", "background", "gender"} <= set(it.variation)
    assert len({it.variation["head_pose"] for it in plan.items}) > 1
    assert render_plan(make_plan(spec)) == render_plan(plan)  # same spec and seed, same bytes


def test_asked_hats_are_planned_balanced_as_attributes_not_as_variation():
    spec = load_spec_source("24 faces of children, 25% wear hats", offline=True)[1]
    items = list(make_plan(spec).items)
    assert Counter(it.attributes["hat"] for it in items) == {"hat": 6, "none": 18}
    assert not any("hat" in it.variation for it in items)


def test_a_diffusion_plan_declares_no_renderer_variation():
    spec = load_spec_source("24 faces of children", offline=True)[1]
    spec = spec.model_copy(
        update={"generation": spec.generation.model_copy(update={"backend": "diffusers"})}
    )
    assert all(it.variation == {} for it in make_plan(spec).items)
