"""The requirement trace: what was understood, and how each requirement is drawn and checked,
shown before approval and refused at run time when the backend cannot draw it."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from agent.cli.app import app
from agent.language.parse import parse_spec
from agent.language.requirements import (
    MEASURED,
    NOT_CHECKED,
    NOT_DRAWN,
    STYLISED,
    STYLISED_DRAWN,
    trace,
    understood,
)
from tools.critic import readability
from tools.critic.readability import Readability, ReadabilityTable

runner = CliRunner()


def rows(text: str, **generation) -> dict[str, object]:
    spec = parse_spec(text, offline=True)
    if generation:
        spec = spec.model_copy(update={"generation": spec.generation.model_copy(update=generation)})
    return {r.asked: r for r in trace(spec)}


def test_a_class_no_level_stands_for_is_not_drawn_by_the_renderer_but_prompted_by_diffusion():
    procedural = rows("300 faces, classes: earrings and no earrings")
    assert NOT_DRAWN in procedural["class 'earrings': 150 images"].flags
    assert NOT_CHECKED in procedural["class 'earrings': 150 images"].flags
    diffusion = rows("300 faces, classes: earrings and no earrings", backend="diffusers")
    row = diffusion["class 'earrings': 150 images"]
    assert row.drawn_by == "prompt: 'earrings'" and NOT_DRAWN not in row.flags


def test_a_vocabulary_class_names_the_renderer_control_and_the_critic_check():
    row = rows("90 faces in classes glasses and sunglasses")[
        "class 'glasses': 45 images (eyewear=glasses)"
    ]
    assert row.drawn_by.startswith("renderer: frames") and row.checked_by.startswith(
        "critic: eyewear"
    )
    assert row.flags == []
    prompted = rows("90 faces in classes glasses and sunglasses", backend="diffusers")
    assert prompted["class 'glasses': 45 images (eyewear=glasses)"].drawn_by == (
        "prompt: 'wearing glasses'"
    )


def test_eyewear_on_faces_too_small_to_read_is_flagged_not_checked_rather_than_promised():
    small = rows("90 faces in classes glasses and sunglasses, 64x64 images")[
        "class 'glasses': 45 images (eyewear=glasses)"
    ]
    assert small.flags == [NOT_CHECKED]
    assert small.checked_by == ("nothing: the critic reads eyewear on faces at least 20 px "
                                "between the eyes, about 11 at 64 px")
    assert rows("90 faces in classes glasses and sunglasses, 128x128 images")[
        "class 'glasses': 45 images (eyewear=glasses)"].checked_by.startswith("critic: eyewear")


def test_age_and_gender_are_measured_on_an_unmeasured_renderer_and_enforced_on_diffusion(
    monkeypatch,
):
    never = ReadabilityTable(command="bench", bar={"age_group": 0.7, "gender": 0.9}, backends={})
    monkeypatch.setattr(readability, "table", lambda: never)
    text = "200 faces balanced across gender"
    assert MEASURED in rows(text)["gender presentation balanced over female, male"].flags
    enforced = rows(text, backend="diffusers")["gender presentation balanced over female, male"]
    assert enforced.flags == [] and "age-and-gender" in enforced.checked_by


def test_on_the_renderer_age_and_gender_are_enforced_where_the_model_reads_its_people(
    monkeypatch,
):
    measured = ReadabilityTable(command="bench", bar={"age_group": 0.7, "gender": 0.9}, backends={
        "procedural": Readability(renders=30, age_group={"teenager": 0.9, "old": 0.1},
                                  gender={"teenager": 0.95, "old": 0.95})})
    monkeypatch.setattr(readability, "table", lambda: measured)
    trace_rows = rows("200 faces of teenagers and old people, balanced across gender")
    age = next(r for asked, r in trace_rows.items() if asked.startswith("age group"))
    assert MEASURED in age.flags
    assert "enforced on teenager; measured and reported, not enforced, on old" in age.checked_by
    gender = trace_rows["gender presentation balanced over female, male"]
    assert gender.flags == [] and gender.checked_by == "critic: age-and-gender model"
    # without a planned age, the critic cannot tell which group a person belongs to: gender
    # is enforced only where every group reads (here the table measured two)
    ageless = rows("200 faces balanced across gender")
    ageless = ageless["gender presentation balanced over female, male"]
    assert MEASURED in ageless.flags and "not enforced" in ageless.checked_by


def test_understood_says_the_counts_classes_factors_and_split_in_one_line():
    spec = parse_spec(
        "900 faces in three classes: no glasses, reading glasses, sunglasses; 60% female; "
        "80/10/10 split",
        offline=True,
    )
    words = understood(spec)
    assert words.startswith("900 images; 3 classes of 300: no glasses, reading glasses, sunglasses")
    assert "gender presentation: female 60%, male 40%" in words
    assert "split 80% / 10% / 10%" in words and "\n" not in words


def test_plan_prints_the_trace_and_writes_it_to_json_and_plan_yaml(tmp_path):
    out = tmp_path / "b"
    result = runner.invoke(
        app,
        ["plan", "60 faces, classes: tattoo and no tattoo", "-o", str(out), "--offline", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["understood"].startswith("60 images; 2 classes of 30")
    assert [r["flags"] for r in data["requirements"][:2]] == [[NOT_CHECKED, NOT_DRAWN]] * 2
    plan = yaml.safe_load((out / "plan.yaml").read_text())
    assert plan["requirements"] == data["requirements"]
    shown = runner.invoke(app, ["review", str(out)])
    assert "Here is what I understood" in shown.stdout and "not drawn" in shown.stdout


def test_run_refuses_a_requirement_the_backend_cannot_draw_unless_allowed(tmp_path):
    out = tmp_path / "b"
    assert (
        runner.invoke(
            app, ["plan", "4 faces, classes: tattoo and no tattoo", "-o", str(out), "--offline"]
        ).exit_code
        == 0
    )
    refused = runner.invoke(app, ["run", str(out), "--yes", "--offline", "--no-train"])
    assert refused.exit_code == 2
    assert "cannot draw: class 'tattoo'" in refused.output and "--allow-undrawn" in refused.output
    assert not (out / "manifest.sqlite").exists()
    assert not (out / "approval.json").exists()  # nothing written by a command that refuses
    assert refused.stdout.startswith("Here is what I understood")  # the trace shows the row


def test_a_run_of_monk_levels_reads_as_a_range():
    assert "skin tone balanced over the 10 Monk levels" in understood(
        parse_spec("100 faces balanced across skin tone", offline=True)
    )
    assert "skin tone balanced over Monk 7-10" in understood(
        parse_spec("100 faces spread evenly over Monk skin tones 7 to 10", offline=True)
    )


def plan_json(tmp_path, *args: str) -> dict:
    result = runner.invoke(app, ["plan", *args, "-o", str(tmp_path / "b"), "--offline", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_photographic_look_is_flagged_on_the_procedural_renderer_and_not_on_diffusion(tmp_path):
    asked = "200 photorealistic faces of adults"
    procedural = [r for r in plan_json(tmp_path / "p", asked)["requirements"]
                  if r["asked"].startswith("look:")]
    assert procedural == [{
        "asked": "look: photorealistic", "drawn_by": STYLISED_DRAWN, "checked_by": "nothing",
        "flags": [STYLISED],
    }]
    diffusion = plan_json(tmp_path / "d", asked, "--backend", "diffusers")["requirements"]
    look = [r for r in diffusion if r["asked"].startswith("look:")]
    assert look[0]["drawn_by"] == "prompt: 'photorealistic'" and look[0]["flags"] == []
    assert not any(STYLISED in r["flags"] for r in diffusion)


def test_a_look_the_request_never_said_is_not_listed_as_asked_though_prompts_keep_it():
    spec = parse_spec("200 faces in two classes: glasses and none", offline=True)
    assert not [r for r in trace(spec) if r.asked.startswith("look:")]
    assert spec.generation.style == ""  # not said
    from agent.planning.diffusion_prompts import build_prompt

    assert build_prompt({}, style=spec.generation.style)[0].startswith("photorealistic portrait")
    said = parse_spec("200 photorealistic faces in two classes: glasses and none", offline=True)
    assert [r.asked for r in trace(said) if r.asked.startswith("look:")] == [
        "look: photorealistic"]


def test_style_words_are_read_from_the_vocabulary_and_a_cartoon_look_is_not_flagged():
    by_asked = rows("40 faces", style="cinematic DSLR portrait, real-life skin")
    assert by_asked["look: cinematic, dslr, real life"].flags == [STYLISED]
    assert not [r for r in trace(parse_spec("40 faces in cartoon style", offline=True))
                if r.asked.startswith("look:")]


def test_the_trace_says_what_the_renderer_draws_that_the_request_does_not_mention():
    by_asked = rows("40 faces of children, 25% wear hats")
    neutral = by_asked["not asked: eye state, eyewear, face mask"]
    assert neutral.drawn_by == "renderer: eye state open, eyewear none, face mask none"
    varied = next(r for r in by_asked.values() if r.asked.startswith("not asked: skin tone"))
    assert "head pose" in varied.asked and "age group" not in varied.asked
    assert "variation" in varied.drawn_by
    crowd = rows("40 images with 1 to 4 faces each")
    varied = next(r for r in crowd.values() if r.asked.startswith("not asked: skin tone"))
    assert varied.drawn_by.endswith("of the first face only: the others vary unlisted)")
    on_diffusion = rows("40 faces", backend="diffusers")
    assert not [asked for asked in on_diffusion if asked.startswith("not asked")]


def test_a_split_that_names_no_validation_share_takes_ten_percent_from_train_and_says_so(
    tmp_path,
):
    out = tmp_path / "b"
    result = runner.invoke(app, ["plan", "100 faces, 80/20 train/test split", "-o", str(out),
                                 "--offline", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "split 70% / 10% / 20% (validation 10% taken from train: none was asked for)" in (
        data["understood"]
    )
    assert yaml.safe_load((out / "spec.yaml").read_text())["splits"] == {
        "train": 0.7, "val": 0.1, "test": 0.2, "val_from_train": True
    }
    shown = runner.invoke(app, ["review", str(out)])
    assert "taken from train" in " ".join(shown.stdout.split())


def test_no_validation_set_said_outright_is_kept_and_named():
    for words in ("100 faces, 80/20 train/test, no validation set",
                  "100 faces, train 80, val 0, test 20"):
        spec = parse_spec(words, offline=True)
        assert (spec.splits.val, spec.splits.val_from_train) == (0.0, False)
        assert "split 80% / 0% / 20% (no validation set, as asked" in understood(spec)
    assert "val_from_train" not in parse_spec("100 faces", offline=True).to_yaml()
