"""Facial hair as a factor, through the CLI: asked beards are planned in balance, facial hair
left open is declared in every item's variation and carried by the records and exports, and a
beard asked of minors is refused with one line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from tools.contracts import ManifestRecord, PlanItem
from tools.generate.procedural import ProceduralGenerator

FACETORY = [sys.executable, "-m", "agent"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
MINORS = {"child", "teenager"}


def facetory(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FACETORY, *args], capture_output=True, text=True, env=ENV,
                          timeout=600)


def plan(tmp_path: Path, text: str) -> tuple[dict, list[dict]]:
    out = tmp_path / "plan"
    result = facetory("plan", text, "--out", str(out), "--offline", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), yaml.safe_load((out / "plan.yaml").read_text())["items"]


def test_asked_beards_are_balanced_and_kept_off_the_minors_of_an_all_ages_set(tmp_path):
    summary, items = plan(tmp_path, "120 men of all ages, 30% with beards")
    assert summary["per_class"]["face"]["facial_hair"] == {"beard": 36, "none": 84}
    bearded = [it for it in items if it["attributes"]["facial_hair"] == "beard"]
    assert len(bearded) == 36
    assert not {it["attributes"]["age_group"] for it in bearded} & MINORS
    ages = Counter(it["attributes"]["age_group"] for it in items)
    assert set(ages.values()) == {20}  # the age groups stay balanced around the rule


def test_an_asked_level_is_drawn_and_the_trace_says_nothing_built_in_checks_it(tmp_path):
    summary, items = plan(tmp_path, "60 men: stubble, moustache, beard and clean-shaven equally")
    assert summary["per_class"]["face"]["facial_hair"] == {
        "none": 15, "stubble": 15, "moustache": 15, "beard": 15}
    row = next(r for r in summary["requirements"] if r["asked"].startswith("facial hair"))
    assert row["flags"] == ["not checked"]
    renderer = ProceduralGenerator(image_size=64)
    for it in items[:12]:
        drawn = renderer.render_clean(PlanItem.model_validate(it))[1].faces[0].attributes
        assert drawn["facial_hair"] == it["attributes"]["facial_hair"]


def test_beards_asked_of_faces_left_open_go_to_adult_men(tmp_path):
    _, items = plan(tmp_path, "twenty faces, beards 40%")
    bearded = [it for it in items if it["attributes"]["facial_hair"] == "beard"]
    assert len(bearded) == 8
    assert {it["variation"]["gender"] for it in bearded} == {"male"}
    assert not {it["variation"]["age_group"] for it in bearded} & MINORS


def test_a_beard_asked_of_minors_is_refused_with_one_line_and_nothing_written(tmp_path):
    for i, text in enumerate(["20 children with beards", "40 teenagers, 50% with a moustache",
                              "200 men aged 10 to 60, 30% with beards"]):
        out = tmp_path / f"b{i}"
        result = facetory("plan", text, "--out", str(out), "--offline")
        assert result.returncode == 2, (text, result.stdout)
        assert result.stderr.count("\n") == 1, result.stderr
        assert "never draws facial hair on minors" in result.stderr
        assert not out.exists()


def test_vocabulary_shows_facial_hair_its_words_and_that_it_is_for_adults(tmp_path):
    result = facetory("vocabulary", "facial hair", "--json")
    assert result.returncode == 0, result.stderr
    [factor] = json.loads(result.stdout)
    assert factor["factor"] == "facial_hair" and factor["checked_by"] is None
    assert {"bearded", "clean-shaven", "five o'clock shadow", "mustache"} <= {
        w for lv in factor["levels"].values() for w in lv["words"]}
    assert factor["levels"]["beard"]["adult"] is True
    assert factor["levels"]["beard"]["prior"] == {"female": 0, "male": 0.15}
    table = facetory("vocabulary", "facial_hair")
    assert table.returncode == 0 and "clean-shaven" in table.stdout


def test_facial_hair_left_open_is_declared_drawn_recorded_and_exported(tmp_path):
    out = tmp_path / "open"
    built = facetory("build", "24 faces balanced across gender, image size 96", "--out",
                     str(out), "--yes", "--offline", "--no-train")
    assert built.returncode == 0, built.stderr
    plan_items = {it["id"]: it for it in yaml.safe_load((out / "plan.yaml").read_text())["items"]}
    with sqlite3.connect(out / "manifest.sqlite") as db:
        records = [ManifestRecord.model_validate_json(r) for (r,) in
                   db.execute("SELECT record FROM images WHERE status = 'accepted'")]
    renderer = ProceduralGenerator(image_size=96)
    seen = Counter()
    for r in records:
        item = PlanItem.model_validate({**plan_items[r.item_id], "seed": r.seed})
        assert r.variation == item.variation
        drawn = renderer.render_clean(item)[1].faces[0].attributes
        assert drawn["facial_hair"] == r.variation["facial_hair"]
        seen[(r.attributes["gender"], r.variation["facial_hair"])] += 1
    assert {lv for g, lv in seen if g == "female"} == {"none"}
    coco = json.loads((out / "dataset" / "coco" / "annotations" / "train.json").read_text())
    assert all("facial_hair" in img["variation"] for img in coco["images"])
    hf = (out / "dataset" / "hf" / "train" / "metadata.jsonl").read_text().splitlines()
    assert all("facial_hair" in json.loads(line)["variation"] for line in hf)
    assert "| facial hair | " in (out / "dataset" / "README.md").read_text()
