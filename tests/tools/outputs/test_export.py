"""Export: accepted images only, every format consistent with the records, atomic re-export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.tools.synthetic_records import CLASSES, make_records
from tools.contracts import Status
from tools.errors import FacetoryError
from tools.outputs.contracts import ExportInfo, class_slug
from tools.outputs.export import export_dataset

SPEC_TEXT = "18 faces, three classes:\nAfrican, Asian and White, balanced by gender"


def _info(**kw) -> ExportInfo:
    return ExportInfo(
        name="tiny", class_names=CLASSES, spec_text=SPEC_TEXT,
        class_targets={c: 6 for c in CLASSES}, generator="procedural",
        thresholds={"min_critic_score": 0.5}, **kw,
    )


@pytest.fixture
def build(tmp_path):
    records = make_records(tmp_path, per_class=6, size=96, multi_face_every=3)
    return tmp_path, records


def test_exports_every_format_with_accepted_images_only(build):
    root, records = build
    summary = export_dataset(records, _info(), root / "dataset", base_dir=root)
    accepted = [r for r in records if r.status == Status.accepted]
    not_accepted = {r.image_id for r in records if r.status != Status.accepted}
    out = root / "dataset"

    # YOLO detect: data.yaml names in plan order, one label line per face, boxes normalised
    data = yaml.safe_load((out / "yolo_detect" / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(CLASSES)) and data["nc"] == 3
    assert "path" not in data  # splits are read relative to data.yaml: the export travels
    train_images = sorted(p.stem for p in (out / "yolo_detect/images/train").iterdir())
    assert train_images == sorted(r.image_id for r in accepted if r.split == "train")
    exported = {p.stem for p in out.rglob("*.png")}
    assert not exported & not_accepted
    two_faces = next(r for r in accepted if len(r.boxes) == 2)
    lines = (out / "yolo_detect/labels" / two_faces.split / f"{two_faces.image_id}.txt")
    rows = [list(map(float, line.split())) for line in lines.read_text().splitlines()]
    assert [int(r[0]) for r in rows] == [CLASSES.index(two_faces.class_name)] * 2
    x0, y0, x1, y1 = two_faces.boxes[0]
    assert rows[0][1:] == pytest.approx([(x0 + x1) / 192, (y0 + y1) / 192,
                                         (x1 - x0) / 96, (y1 - y0) / 96], abs=1e-5)

    # images are hard links of the build's files, not copies
    src = root / two_faces.path
    dst = out / "yolo_detect/images" / two_faces.split / f"{two_faces.image_id}.png"
    assert os.stat(src).st_ino == os.stat(dst).st_ino

    # YOLO classify: one crop per face, in the class folder
    n_faces = sum(len(r.boxes) for r in accepted)
    crops = list((out / "yolo_classify").rglob("*.png"))
    assert len(crops) == n_faces == sum(summary.classify_samples.values())
    crop = out / "yolo_classify" / two_faces.split / class_slug(two_faces.class_name)
    with Image.open(crop / f"{two_faces.image_id}-f0.png") as im:
        assert im.size[0] < 96 and im.size[0] >= (x1 - x0)  # the face plus a margin

    # COCO: one annotation per face, bbox in xywh pixels, 1-based categories
    coco = json.loads((out / "coco/annotations/train.json").read_text())
    assert [c["name"] for c in coco["categories"]] == CLASSES
    train_faces = sum(len(r.boxes) for r in accepted if r.split == "train")
    assert len(coco["annotations"]) == train_faces
    first = next(i for i in coco["images"] if i["facetory_id"] == accepted[0].image_id)
    ann = next(a for a in coco["annotations"] if a["image_id"] == first["id"])
    bx0, by0, bx1, by1 = accepted[0].boxes[0]
    assert ann["bbox"] == pytest.approx([bx0, by0, bx1 - bx0, by1 - by0], abs=0.01)
    assert ann["category_id"] == CLASSES.index(accepted[0].class_name) + 1

    # Hugging Face imagefolder: every attribute is a column, files sit beside metadata.jsonl
    rows = [json.loads(line) for line in
            (out / "hf/validation/metadata.jsonl").read_text().splitlines()]
    assert len(rows) == sum(r.split == "val" for r in accepted)
    assert {"skin_tone", "age_group", "gender", "identity", "objects"} <= set(rows[0])
    assert all((out / "hf/validation" / row["file_name"]).is_file() for row in rows)

    assert summary.total_images == len(accepted)
    assert summary.faces["train"] == train_faces
    assert json.loads((out / "export.json").read_text())["images"] == summary.images


def test_dataset_card_says_what_was_asked_made_and_rejected(build):
    root, records = build
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    card = (root / "dataset" / "README.md").read_text()
    for line in SPEC_TEXT.splitlines():
        assert f"> {line}" in card  # the user's words, verbatim
    rejected = sum(r.status == Status.rejected for r in records)
    assert f"{rejected} rejected" in card
    assert "| blurry |" in card
    assert "synthetic" in card and "iBUG 300-W" in card and "commercial" in card
    assert "| African | 6 | 4 | 1 | 1 | 6 |" in card
    assert "Shortfall" not in card  # targets met
    assert card.startswith("---\npretty_name: tiny")


def test_reexport_replaces_the_previous_export(build):
    root, records = build
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    dropped = next(r for r in records if r.status == Status.accepted and r.split == "train")
    records = [r.model_copy(update={"status": Status.rejected}) if r is dropped else r
               for r in records]
    summary = export_dataset(records, _info(), root / "dataset", base_dir=root)

    assert not list((root / "dataset").rglob(f"{dropped.image_id}*"))
    assert summary.images["train"][dropped.class_name] == 3
    assert "Shortfall" in (root / "dataset/README.md").read_text()
    assert [p.name for p in root.iterdir() if p.name.startswith(".dataset")] == []


def test_a_failed_export_keeps_the_previous_one(build):
    root, records = build
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    before = sorted(p.relative_to(root) for p in (root / "dataset").rglob("*"))
    victim = next(r for r in records if r.status == Status.accepted)
    (root / victim.path).unlink()

    with pytest.raises(FacetoryError, match=f"{victim.image_id} is missing"):
        export_dataset(records, _info(), root / "dataset", base_dir=root)
    assert sorted(p.relative_to(root) for p in (root / "dataset").rglob("*")) == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".dataset")] == []


def test_unknown_class_is_a_one_line_error(build):
    root, records = build
    with pytest.raises(FacetoryError, match="not one of the plan's classes"):
        export_dataset(records, _info().model_copy(update={"class_names": CLASSES[:2]}),
                       root / "dataset", base_dir=root)


def test_whole_images_for_classify_and_images_without_boxes(build):
    root, records = build
    no_box = next(r for r in records if r.status == Status.accepted and r.split == "train")
    records = [r.model_copy(update={"boxes": []}) if r is no_box else r for r in records]
    summary = export_dataset(records, _info(classify_crop=False), root / "dataset", base_dir=root)
    out = root / "dataset"

    assert summary.skipped == {no_box.image_id: "no face box"}
    assert not (out / "yolo_detect/images/train" / f"{no_box.image_id}.png").exists()
    folder = out / "yolo_classify/train" / class_slug(no_box.class_name)
    assert (folder / f"{no_box.image_id}.png").is_file()  # the whole image, not crops
    accepted = sum(r.status == Status.accepted for r in records)
    assert sum(summary.classify_samples.values()) == accepted


def test_boxes_are_clipped_to_the_image(build):
    root, records = build
    rec = next(r for r in records if r.status == Status.accepted and r.split == "test")
    records = [r.model_copy(update={"boxes": [(-10.0, 20.0, 50.0, 130.0)]}) if r is rec else r
               for r in records]
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    label = root / "dataset/yolo_detect/labels/test" / f"{rec.image_id}.txt"
    _, cx, cy, w, h = map(float, label.read_text().split())
    assert (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2) == pytest.approx(
        (0.0, 20 / 96, 50 / 96, 1.0), abs=1e-5)


def test_the_card_shows_the_recorded_spec_and_variants_name_their_parent(build):
    root, records = build
    accepted = [r for r in records if r.status == Status.accepted]
    variant = accepted[1].model_copy(update={"parent": accepted[0].image_id})
    records = [variant if r.image_id == variant.image_id else r for r in records]
    spec_yaml = "name: tiny\ngeneration: {backend: procedural}\n"
    export_dataset(records, _info(spec_yaml=spec_yaml), root / "dataset", base_dir=root)
    card = (root / "dataset" / "README.md").read_text()
    assert "```yaml\nname: tiny\ngeneration: {backend: procedural}\n```" in card
    coco = {im["facetory_id"]: im
            for split in ("train", "val", "test")
            for im in json.loads((root / "dataset" / "coco" / "annotations" / f"{split}.json")
                                 .read_text())["images"]}
    assert coco[variant.image_id]["parent"] == accepted[0].image_id
    assert coco[accepted[0].image_id]["parent"] is None


def test_dataset_card_carries_the_requirement_trace(build):
    from tools.contracts import Requirement

    root, records = build
    trace = [Requirement(asked="class 'African': 6 images (ethnicity=african)",
                         drawn_by="renderer: skin tone | hair", checked_by="nothing",
                         flags=["not checked"])]
    export_dataset(records, _info(understood="18 images; 3 classes", requirements=trace),
                   root / "dataset", base_dir=root)
    card = (root / "dataset" / "README.md").read_text()
    assert "Understood as: 18 images; 3 classes" in card
    assert ("| class 'African': 6 images (ethnicity=african) | renderer: skin tone \\| hair "
            "| nothing | not checked |") in card


def test_a_moved_export_loads_from_its_new_place_and_never_reads_the_old_one(build):
    import shutil
    import subprocess
    import sys

    root, records = build
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    moved = root / "elsewhere" / "faces"
    shutil.move(root / "dataset", moved)
    copied = root / "copy"
    shutil.copytree(moved, copied)
    shutil.rmtree(moved)  # a copy must not lean on the folder it was copied from

    # ultralytics' own dataset check, in a process of its own (importing ultralytics patches
    # PIL.Image.open for every later test) and from another working directory
    check = (
        "import json, sys; from ultralytics.data.utils import check_det_dataset; "
        "from tools.outputs.train import _offline_ultralytics\n"
        "with _offline_ultralytics(): data = check_det_dataset(sys.argv[1])\n"
        "print(json.dumps({s: str(data[s]) for s in ('train', 'val', 'test')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, str(copied / "yolo_detect" / "data.yaml")],
        capture_output=True, text=True, timeout=300, cwd=root / "elsewhere",
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    for split in ("train", "val", "test"):
        assert Path(data[split]) == copied / "yolo_detect" / "images" / split
        assert any(Path(data[split]).iterdir())
    coco = json.loads((copied / "coco/annotations/val.json").read_text())
    assert all((copied / "coco/images/val" / i["file_name"]).is_file() for i in coco["images"])
    for line in (copied / "hf/train/metadata.jsonl").read_text().splitlines():
        assert (copied / "hf/train" / json.loads(line)["file_name"]).is_file()
    listing = json.loads((copied / "export.json").read_text())
    assert listing["root"] == "." and (copied / listing["detect_yaml"]).is_file()
    assert str(root) not in "".join(p.read_text() for p in copied.rglob("*.json*"))
    assert str(root) not in (copied / "yolo_detect/data.yaml").read_text()


def test_an_export_folder_holding_other_files_is_refused_and_left_alone(build):
    root, records = build
    out = root / "dataset"
    export_dataset(records, _info(), out, base_dir=root)
    (out / "my_notes.txt").write_text("keep me")
    with pytest.raises(FacetoryError, match="holds files facetory did not write"):
        export_dataset(records, _info(), out, base_dir=root)
    assert (out / "my_notes.txt").read_text() == "keep me"
    assert (out / "export.json").is_file()


def test_the_export_is_the_same_file_for_file_whatever_the_number_of_writer_threads(
    build, monkeypatch
):
    root, records = build

    def exported(threads: int) -> dict[str, bytes]:
        monkeypatch.setattr("tools.outputs.export_formats.WRITER_THREADS", threads)
        out = root / f"dataset{threads}"
        export_dataset(records, _info(), out, base_dir=root)
        return {str(p.relative_to(out)): p.read_bytes()
                for p in sorted(out.rglob("*")) if p.is_file()}

    one = exported(1)
    assert any(name.endswith("-f1.png") for name in one)  # multi-face crops were written
    assert exported(4) == one


def test_the_card_and_metadata_say_what_was_varied_and_which_injected_defects_got_through(build):
    root, records = build
    accepted = [r for r in records if r.status == Status.accepted]
    rejected = next(r for r in records if r.status != Status.accepted)
    marked = {accepted[0].image_id: ["attribute_mismatch:gender"],
              rejected.image_id: ["blurry"]}
    records = [r.model_copy(update={"variation": {"head_pose": "left", "lighting": "top"},
                                    "faults": marked.get(r.image_id, [])}) for r in records]
    export_dataset(records, _info(), root / "dataset", base_dir=root)
    card = (root / "dataset" / "README.md").read_text()
    assert f"| head pose | left {len(accepted)} |" in card
    assert (f"**1 accepted image(s) carry one**: {accepted[0].image_id} "
            "(attribute_mismatch:gender); 1 image(s) with one were rejected.") in card
    split = accepted[0].split
    coco = json.loads((root / f"dataset/coco/annotations/{split}.json").read_text())
    entry = next(i for i in coco["images"] if i["facetory_id"] == accepted[0].image_id)
    assert entry["variation"] == {"head_pose": "left", "lighting": "top"}
    assert entry["injected_faults"] == ["attribute_mismatch:gender"]
    hf_split = {"train": "train", "val": "validation", "test": "test"}[split]
    rows = (root / f"dataset/hf/{hf_split}/metadata.jsonl").read_text().splitlines()
    row = next(json.loads(x) for x in rows if json.loads(x)["image_id"] == accepted[0].image_id)
    assert row["variation"]["lighting"] == "top" and row["injected_faults"]


def test_the_card_shows_words_a_person_wrote_as_text_never_as_markup(build):
    root, records = build
    evil = '"><img src=x onerror=alert(3)>'
    records = [r.model_copy(update={"class_name": evil}) if r.class_name == "African" else r
               for r in records]
    names = [evil if c == "African" else c for c in CLASSES]
    info = ExportInfo(name="<b>tiny</b>", class_names=names,
                      spec_text="faces <script>alert(1)</script>",
                      class_targets={n: 6 for n in names},
                      generator="procedural", understood="<i>18</i> faces",
                      spec_yaml="name: x\nnote: |\n  ```\n  <img src=y>\n")
    export_dataset(records, info, root / "dataset", base_dir=root)
    front, card = (root / "dataset" / "README.md").read_text().split("\n---\n", 1)
    assert "pretty_name: <b>tiny</b>" in front  # YAML data for a loader, not rendered
    assert "<img" not in card.replace("```\n  <img src=y>", "")  # the fenced spec is literal
    assert "<script>" not in card and "<b>tiny</b>" not in card and "<i>18</i>" not in card
    assert "&quot;&gt;&lt;img src=x onerror=alert(3)&gt;" in card or \
        "&lt;img src=x onerror=alert(3)&gt;" in card
    assert "````yaml" in card  # a fence longer than any run of backticks inside it
