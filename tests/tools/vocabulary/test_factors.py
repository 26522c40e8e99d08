"""factors.yaml is the one source of every fact about a level: the loader refuses a fact given
for some levels of a factor only, and every table that draws, checks or prompts a level covers
every level of the yaml, so adding a level is one yaml edit plus the drawing code this test
asks for."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from agent.planning.diffusion_prompts import build_prompt
from tests.tools.face_photos import main_face
from tools.contracts import PlanItem
from tools.critic import attributes as at
from tools.critic import clip
from tools.critic.attributes import MEASURABLE
from tools.critic.demographics import FACTORS_READ
from tools.critic.pipeline import CriticConfig
from tools.critic.skin_tone import MONK_HEX
from tools.generate import aging, face_geometry, scene
from tools.generate.augment import transformation_prompt
from tools.generate.procedural import ProceduralGenerator
from tools.vocabulary import (
    AGE_GROUP_YEARS,
    ETHNICITY_SKIN_TONES,
    IDENTITY_SCOPE,
    VOCABULARY,
    FactorWords,
    age_group_at,
    prior,
)

#: Tables in Python that draw or check a level, keyed by level (or one entry per level in
#: order): (factor, what the table is called, the table).
DRAWING_TABLES: list[tuple[str, str, Mapping[str, object] | tuple]] = [
    ("skin_tone", "scene.MONK_RGB", scene.MONK_RGB),
    ("skin_tone", "skin_tone.MONK_HEX (one per level, in order)", MONK_HEX),
    ("hair_color", "scene.HAIR_RGB", scene.HAIR_RGB),
    ("eye_color", "scene.IRIS_RGB", scene.IRIS_RGB),
    ("lighting", "scene.LIGHT_DIR", scene.LIGHT_DIR),
    ("expression", "face_geometry.EXPRESSION", face_geometry.EXPRESSION),
    ("age_group", "face_geometry.AGE_SHAPE", face_geometry.AGE_SHAPE),
    ("age_group", "aging.AGE_WEAR", aging.AGE_WEAR),
]


def uncovered(vocabulary: Mapping[str, FactorWords]) -> list[str]:
    """Every (table, level) where a table that draws, checks or prompts a level misses it."""
    missing = []
    for factor, name, table in DRAWING_TABLES:
        levels = list(vocabulary[factor].levels)
        have = list(table) if isinstance(table, Mapping) else levels[: len(table)]
        missing += [f"{name} misses {factor}.{lv}" for lv in levels if lv not in have]
    for factor, words in vocabulary.items():
        for lv, body in words.levels.items():
            if not body.prompt and lv != words.rest:
                missing.append(f"the prompt of {factor}.{lv} is empty")
            if factor == "age_group" and (body.years is None or set(body.nouns or ()) != set(
                    vocabulary["gender"].levels)):
                missing.append(f"age_group.{lv} needs years and a noun per gender")
            if factor == "ethnicity" and body.skin_tones is None:
                missing.append(f"ethnicity.{lv} needs skin_tones")
            if factor == "skin_tone" and body.shade is None:
                missing.append(f"skin_tone.{lv} needs a shade")
        drawn_by_prior = factor not in ("skin_tone", "ethnicity")
        if drawn_by_prior and any(b.prior is None for b in words.levels.values()):
            missing.append(f"{factor} needs a prior weight per level (the renderer draws it)")
    return missing


def test_every_table_that_draws_checks_or_prompts_a_level_covers_every_yaml_level():
    assert uncovered(VOCABULARY) == []


def test_a_new_yaml_level_is_reported_by_each_table_that_lacks_it():
    vocabulary = copy.deepcopy(VOCABULARY)
    hair = vocabulary["hair_color"]
    hair.levels["purple"] = hair.levels["red"].model_copy(update={"words": ["purple hair"]})
    tone = vocabulary["skin_tone"]
    tone.levels["monk_11"] = tone.levels["monk_10"].model_copy(update={"words": ["monk 11"]})
    assert uncovered(vocabulary) == [
        "scene.MONK_RGB misses skin_tone.monk_11",
        "skin_tone.MONK_HEX (one per level, in order) misses skin_tone.monk_11",
        "scene.HAIR_RGB misses hair_color.purple",
    ]


def _factors_yaml() -> dict:
    root = Path(__file__).resolve().parents[3]
    return yaml.safe_load((root / "tools/vocabulary/factors.yaml").read_text(encoding="utf-8"))


def test_a_fact_given_for_some_levels_of_a_factor_only_is_refused():
    data = _factors_yaml()["head_pose"]
    del data["levels"]["tilted"]["transform"]
    with pytest.raises(ValidationError, match="transform is given for frontal but not for tilted"):
        FactorWords.model_validate(data)


def test_derived_tables_follow_the_yaml():
    assert AGE_GROUP_YEARS["teenager"] == (15, 30) and ETHNICITY_SKIN_TONES["african"] == (7, 10)
    assert [age_group_at(y) for y in (8, 130, -1)] == ["child", "old", "child"]
    assert set(MEASURABLE["expression"]) == {"neutral", "smile", "surprise", "sad"}
    assert set(FACTORS_READ) == {"age_group", "gender"}
    assert set(clip.PROBES) == {"age_group", "gender", "hair_color", "expression", "eyes",
                                "eyewear", "hat"}
    assert prior("hair_style", "female") == (("short", "long", "curly", "ponytail"),
                                             (0.15, 0.5, 0.15, 0.2))


def test_hair_colour_is_fixed_per_person_as_the_yaml_says():
    assert "hair_color" in IDENTITY_SCOPE and "hair_style" not in IDENTITY_SCOPE


def test_prompts_use_the_yamls_age_and_gender_nouns():
    prompt, _ = build_prompt({"age_group": "teenager", "gender": "female"})
    assert "of a teenage girl" in prompt
    assert "of a young adult" in build_prompt({"age_group": "young_adult"})[0]
    assert "of a man" in build_prompt({"gender": "male"})[0]
    assert transformation_prompt("a photo", {"mask": "mask"}) == (
        "a photo, " + VOCABULARY["mask"].levels["mask"].transform)


#: Levels that bring out each factor: hair long and no hat so its colour shows, and so on.
SHOWN = {"hair_style": "long", "hat": "none", "eyewear": "none", "eyes": "open",
         "mask": "none", "head_pose": "frontal", "age_group": "young_adult",
         "expression": "neutral", "lighting": "front", "background": "plain"}


@pytest.mark.parametrize("factor", [f for f in VOCABULARY if f != "ethnicity"])
def test_the_renderer_draws_every_level_of_a_factor_differently(factor):
    """A level the drawing code does not know would be drawn like another one (or fail)."""
    gen = ProceduralGenerator(image_size=96)
    images = {}
    for level in VOCABULARY[factor].levels:
        attributes = {**SHOWN, factor: level}
        item = PlanItem(id="v", **{"class": "faces"}, seed=3, identity="p1",
                        attributes=attributes)
        images[level] = gen.render(item)[0]
    levels = list(images)
    same = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1:]
            if np.array_equal(images[a], images[b])]
    assert same == []


def _verified(factor: str, level: str, seed: int) -> tuple[str | None, bool]:
    """(what the critic measured, whether it verified) on a clean 256 px render of a level."""
    item = PlanItem(id="v", **{"class": "faces"}, seed=seed, identity=f"p{seed}",
                    attributes={**SHOWN, factor: level})
    rgb = ProceduralGenerator(image_size=256).render(item)[0]
    judged = frozenset({factor})
    measured, figures = at.measure(rgb, main_face(rgb), judged, at.AttributeThresholds())
    _, failed, _ = at.verify({factor: level}, measured, at.AttributeThresholds(), judged, figures)
    return measured.get(factor), not failed


@pytest.mark.parametrize("factor", sorted(CriticConfig().attribute_checks))
def test_every_level_a_default_check_claims_to_measure_is_read_right_on_a_clean_render(factor):
    """A new level that a check cannot tell (it reads goggles as glasses) fails here until
    the check learns it or the yaml marks it `unmeasured: true`."""
    readings = {lv: [_verified(factor, lv, seed) for seed in (1, 2)]
                for lv in sorted(MEASURABLE[factor])}
    wrong = {lv: got for lv, got in readings.items() if not all(ok for _, ok in got)}
    unread = [lv for lv, got in readings.items() if all(m is None for m, _ in got)]
    assert (wrong, unread) == ({}, [])
