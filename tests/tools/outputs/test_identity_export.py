"""The face-recognition export: a folder per identity and LFW-style pairs files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.tools.outputs.synthetic_people import people
from tools.contracts import ManifestRecord, Status
from tools.errors import FacetoryError
from tools.outputs.identity_export import export_identity_folders, write_pairs


def parse_pairs(path: Path):
    """Read a pairs file the way LFW loaders do: 3 fields mated, 4 fields non-mated."""
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    mated = [(r[0], int(r[1]), int(r[2])) for r in rows if len(r) == 3]
    non_mated = [(r[0], int(r[1]), r[2], int(r[3])) for r in rows if len(r) == 4]
    assert len(mated) + len(non_mated) == len(rows)
    return header, rows, mated, non_mated


def test_pairs_file_in_lfw_format(tmp_path):
    samples = people(10, 4, spread=0.5)
    counts = write_pairs(samples, tmp_path / "pairs.txt", mated=40, folds=2, seed=3)
    header, rows, mated, non_mated = parse_pairs(tmp_path / "pairs.txt")
    assert counts == (40, 40) and header == ["2", "20"]
    # each fold: 20 mated then 20 non-mated
    assert [len(r) for r in rows] == ([3] * 20 + [4] * 20) * 2
    assert len(set(mated)) == 40 and len(set(non_mated)) == 40
    assert all(1 <= i < j <= 4 for _, i, j in mated)
    assert all(a < b and 1 <= i <= 4 and 1 <= j <= 4 for a, i, b, j in non_mated)
    assert {name for name, _, _ in mated} <= {f"person-{p:02d}" for p in range(10)}
    first = (tmp_path / "pairs.txt").read_text()
    write_pairs(list(reversed(samples)), tmp_path / "again.txt", mated=40, folds=2, seed=3)
    assert (tmp_path / "again.txt").read_text() == first  # order of samples does not matter
    write_pairs(samples, tmp_path / "other.txt", mated=40, folds=2, seed=4)
    assert (tmp_path / "other.txt").read_text() != first


def test_pairs_shrink_to_what_exists_and_unbalanced_header(tmp_path):
    samples = people(3, 2, spread=0.5)  # 3 mated pairs, 12 non-mated pairs exist
    assert write_pairs(samples, tmp_path / "p.txt", mated=100) == (3, 3)
    assert parse_pairs(tmp_path / "p.txt")[0] == ["1", "3"]
    assert write_pairs(samples, tmp_path / "q.txt", mated=2, non_mated=50) == (2, 12)
    header, _, mated, non_mated = parse_pairs(tmp_path / "q.txt")
    assert header == ["1", "2", "12"] and len(set(non_mated)) == 12 and len(mated) == 2
    with pytest.raises(FacetoryError, match="no folder name for identities person-02"):
        write_pairs(samples, tmp_path / "r.txt", names={"person-00": "a", "person-01": "b"})


def make_records(root: Path) -> list[ManifestRecord]:
    """Three people in two splits, accepted and rejected images, PNGs on disk."""
    records = []
    plan = [("ann", "train", 3), ("bob", "train", 2), ("cy/d", "test", 2), ("eve", "test", 2)]
    rng = np.random.default_rng(0)
    for identity, split, count in plan:
        for k in range(count + 1):
            status = Status.accepted if k < count else Status.rejected
            image_id = f"{identity.replace('/', '')}-{k}"
            path = root / "images" / f"{image_id}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path)
            records.append(ManifestRecord(
                image_id=image_id, item_id=image_id, class_name="face", identity=identity,
                split=split, status=status, path=f"images/{image_id}.png",
            ))
    records.append(ManifestRecord(image_id="anon", item_id="anon", class_name="face",
                                  status=Status.accepted, path="images/ann-0.png"))
    return records


def test_export_identity_folders(tmp_path):
    records = make_records(tmp_path)
    out = export_identity_folders(records, tmp_path / "dataset" / "identities",
                                  base_dir=tmp_path, pairs=10)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["ann", "bob", "cy_d", "eve"]
    assert sorted(p.name for p in (out / "ann").iterdir()) == [
        "ann_0001.png", "ann_0002.png", "ann_0003.png"]
    # ann_0002 is ann's second image by id, hard-linked from the build
    assert os.path.samefile(out / "ann" / "ann_0002.png", tmp_path / "images" / "ann-1.png")
    assert not any("anon" in p.name for p in out.rglob("*"))
    assert (out / "identities.tsv").read_text().splitlines()[1:] == [
        "ann\tann\ttrain\t3", "bob\tbob\ttrain\t2", "cy/d\tcy_d\ttest\t2", "eve\teve\ttest\t2"]
    for name in ("pairs.txt", "pairs_train.txt", "pairs_test.txt"):
        _, _, mated, non_mated = parse_pairs(out / name)
        assert mated and non_mated
        for folder, *numbers in [(m[0], m[1], m[2]) for m in mated]:
            for n in numbers:
                assert (out / folder / f"{folder}_{n:04d}.png").is_file()
        for a, i, b, j in non_mated:
            assert (out / a / f"{a}_{i:04d}.png").is_file()
            assert (out / b / f"{b}_{j:04d}.png").is_file()
    test_names = {row[0] for row in parse_pairs(out / "pairs_test.txt")[1]}
    assert test_names <= {"cy_d", "eve"}
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "stale.txt").write_text("old export")
    export_identity_folders(records, out, base_dir=tmp_path, pairs=10)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # replaced whole, same bytes


def test_export_refuses_a_person_in_two_splits(tmp_path):
    records = make_records(tmp_path)
    records[1] = records[1].model_copy(update={"split": "val"})
    with pytest.raises(FacetoryError, match="several splits"):
        export_identity_folders(records, tmp_path / "out", base_dir=tmp_path)
    with pytest.raises(FacetoryError, match="no accepted images"):
        export_identity_folders(records[-1:], tmp_path / "out", base_dir=tmp_path)
    assert not (tmp_path / "out").exists()
