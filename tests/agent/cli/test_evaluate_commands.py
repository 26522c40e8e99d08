"""`facetory evaluate DIR`: the build's trained model on real faces beside the Haar cascade.

The build is the tiny export of tests.tools.synthetic_records with a YOLO trained for one
epoch at 64 px: it finds no real face, which is what an untrained detector should score.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import app
from tests.tools.synthetic_records import CLASSES, make_records
from tools.outputs.contracts import ExportInfo
from tools.outputs.export import export_dataset
from tools.outputs.real_face_set import embedded_real_set
from tools.outputs.train import train_yolo

runner = CliRunner()


def facetory(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def own_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACETORY_CACHE", str(cache))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("build")
    records = make_records(root, per_class=10, size=64, rejected_per_class=0,
                           duplicates_per_class=0, multi_face_every=5)
    export_dataset(records, ExportInfo(name="tiny", class_names=CLASSES), root / "dataset",
                   base_dir=root)
    train_yolo(root / "dataset", "detect", root / "runs", epochs=1, imgsz=64)
    return root


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_evaluate_prints_the_table_and_saves_the_scores_beside_the_metrics(trained: Path):
    result = facetory("evaluate", trained)
    assert result.exit_code == 0, result.output
    for words in ("YOLO on real", "Haar on real", "YOLO on synthetic", "recall", "embedded-v1"):
        assert words in result.output
    saved = json.loads((trained / "runs" / "detect" / "real_faces.json").read_text())
    metrics = json.loads((trained / "runs" / "detect" / "metrics.json").read_text())
    assert saved["real_set"] == "embedded-v1" and saved["export_sha256"] == \
        metrics["dataset_sha256"]
    assert saved["sources"].endswith("real_faces_sources.yaml")
    assert saved["haar"]["faces"] == saved["model"]["faces"] == 57
    assert saved["haar"]["recall"] > 0.8  # the classical baseline finds most real faces
    assert saved["synthetic"]["images"] == metrics["images"]["test"]
    assert saved["synthetic"]["mAP50_ci95"]["resamples"] == 1000
    card = (trained / "dataset" / "README.md").read_text()
    assert "| OpenCV Haar cascade | real faces (embedded-v1) | 32 | 57 | " \
        f"{saved['haar']['recall']:.3f} |" in card


def test_evaluate_json_scores_a_coco_folder_given_with_real(trained: Path, cache: Path,
                                                            tmp_path: Path) -> None:
    photo = embedded_real_set(cache) / "images" / "astronaut.png"
    shutil.copy(photo, tmp_path / "astro.png")
    (tmp_path / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "astro.png"}],
        "annotations": [{"image_id": 1, "bbox": [174, 68, 98, 110]}]}))
    result = facetory("evaluate", trained, "--real", tmp_path, "--json", "--conf", "0.5")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["real_set"] == str(tmp_path) and scores["model"]["conf"] == 0.5
    assert (scores["haar"]["images"], scores["haar"]["faces"], scores["haar"]["recall"]) == \
        (1, 1, 1.0)


def test_evaluate_refuses_bad_input_in_one_line(trained: Path, tmp_path: Path) -> None:
    assert "no such folder" in one_line_error(facetory("evaluate", trained, "--real",
                                                       tmp_path / "nowhere"))
    before = sorted(p.name for p in trained.rglob("*"))
    assert "--real none measures nothing" in one_line_error(
        facetory("evaluate", trained, "--real", "none"))
    assert sorted(p.name for p in trained.rglob("*")) == before  # nothing measured or written
    (tmp_path / "flat").mkdir()
    assert "neither YOLO layout" in one_line_error(facetory("evaluate", trained, "--real",
                                                            tmp_path / "flat"))
    assert "no exported dataset" in one_line_error(facetory("evaluate", tmp_path))
    untrained = tmp_path / "untrained"
    shutil.copytree(trained / "dataset", untrained / "dataset")
    assert "no model trained" in one_line_error(facetory("evaluate", untrained))


BUILD_SPEC = """\
name: realcheck
classes:
  - {name: none, quota: 9, attributes: {eyewear: none}}
  - {name: sunglasses, quota: 9, attributes: {eyewear: sunglasses}}
budget: {batch_size: 6}
image_size: 128
seed: 4
training: {epochs: 1, imgsz: 64}
"""


def test_a_build_scores_its_model_on_real_faces_after_training_and_shows_it(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BUILD_SPEC)
    out = tmp_path / "build"
    result = facetory("build", spec, "--out", out, "--yes", "--offline", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Haar on real" in result.output and "YOLO on synthetic" in result.output
    saved = json.loads((out / "runs" / "detect" / "real_faces.json").read_text())
    assert saved["real_set"] == "embedded-v1" and saved["haar"]["faces"] == 57
    assert 'id="real-faces"' in (out / "report.html").read_text()
    assert "## How a detector trained on it does on real faces" in \
        (out / "dataset" / "README.md").read_text()
