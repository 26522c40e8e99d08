"""Command-line options that change the output are recorded in spec.yaml, shown in the plan
review, need a new approval, and are refused once a build has started with other values."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agent.cli.app import app
from agent.language.spec import DatasetSpec
from agent.planning.approval import is_approved
from agent.planning.plan_file import read_plan, read_spec

SPEC = """\
name: opts
classes:
  - {name: none, quota: 3, attributes: {eyewear: none}}
  - {name: glasses, quota: 3, attributes: {eyewear: glasses}}
budget: {batch_size: 3}
image_size: 96
seed: 2
"""
runner = CliRunner()


def facetory(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def test_plan_records_the_options_in_spec_yaml_and_shows_them(tmp_path: Path) -> None:
    out = tmp_path / "b"
    result = facetory("plan", spec_file(tmp_path), "--out", out, "--offline",
                      "--epochs", 4, "--imgsz", 64, "--weights", "start.pt", "--backend",
                      "procedural")
    assert result.exit_code == 0, result.output
    spec = read_spec(out / "spec.yaml")
    assert (spec.training.epochs, spec.training.imgsz, spec.training.weights) == (4, 64, "start.pt")
    assert read_plan(out / "plan.yaml").spec == spec  # a later review keeps them
    assert "training: start.pt, 4 epochs at 64 px" in result.output


def test_the_real_face_set_is_a_recorded_option_and_a_folder_is_recorded_absolute(
        tmp_path: Path, monkeypatch) -> None:
    assert read_spec(_planned(tmp_path, "a")).training.real_faces == "embedded"  # the default
    assert read_spec(_planned(tmp_path, "b", "--real-faces", "none")).training.real_faces == "none"
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    spec = read_spec(_planned(tmp_path, "c", "--real-faces", "mine"))
    assert spec.training.real_faces == str(tmp_path / "mine")


def _planned(tmp_path: Path, name: str, *options: str) -> Path:
    result = facetory("plan", spec_file(tmp_path), "--out", tmp_path / name, "--offline", *options)
    assert result.exit_code == 0, result.output
    assert "then scored on real faces:" in result.output
    return tmp_path / name / "spec.yaml"


def test_an_option_before_the_start_changes_the_spec_and_needs_a_new_approval(tmp_path):
    out = tmp_path / "b"
    assert facetory("plan", spec_file(tmp_path), "--out", out, "--offline").exit_code == 0
    assert facetory("approve", out).exit_code == 0
    refused = facetory("run", out, "--epochs", 2, "--no-train", "--offline")
    assert refused.exit_code == 2
    # the run opens with what it understood (stdout); the refusal is one line on stderr
    assert "not approved" in refused.stderr and len(refused.stderr.strip().splitlines()) <= 2
    assert read_spec(out / "spec.yaml").training.epochs == 2 and not is_approved(out)


def test_a_resume_with_a_contradicting_option_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert facetory("plan", spec_file(tmp_path), "--out", out, "--offline").exit_code == 0
    done = facetory("run", out, "--yes", "--no-train", "--offline")
    assert done.exit_code == 0, done.output
    before = (out / "spec.yaml").read_bytes()

    refused = facetory("run", out, "--backend", "diffusers", "--offline")
    assert refused.exit_code == 2
    line = " ".join(refused.output.split())
    assert "generation.backend=procedural" in line and "--backend diffusers" in line
    assert "to change it on purpose, edit generation.backend under spec:" in line
    assert (out / "spec.yaml").read_bytes() == before
    # the same value as recorded is no contradiction
    assert facetory("run", out, "--backend", "procedural", "--offline").exit_code == 0
    # and `build` driven through the test runner answers in one line too
    again = facetory("build", spec_file(tmp_path), "--out", out, "--epochs", 9, "--offline")
    assert again.exit_code == 2 and "training.epochs=30" in " ".join(again.output.split())


def test_a_spec_written_with_the_flat_generation_keys_still_reads() -> None:
    spec = DatasetSpec.from_yaml(SPEC + "generation: {backend: diffusers, model: /m, steps: 4, "
                                 "guidance_scale: 5.0, fault_rate: 0.1, style: cartoon}\n")
    g = spec.generation
    assert (g.backend, g.diffusers.model, g.diffusers.steps) == ("diffusers", "/m", 4)
    assert (g.diffusers.guidance_scale, g.procedural.fault_rate, g.style) == (5.0, 0.1, "cartoon")
    assert DatasetSpec.from_yaml(spec.to_yaml()) == spec


def test_a_real_face_folder_that_cannot_be_read_stops_the_run_before_it_draws(
        tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()  # no images/ and labels/, no annotations.json
    out = _planned(tmp_path, "b", "--real-faces", tmp_path / "photos").parent
    refused = facetory("run", out, "--yes", "--no-train", "--offline")
    assert refused.exit_code == 2
    assert "neither YOLO layout" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # after what it understood, on stdout
    assert not (out / "images").exists() or not any((out / "images").iterdir())
