"""Duplicate detection on a planted set: our embedding beside imagededup's PHash.

    .venv/bin/python bench/bench_dedup.py [--n 200] [--size 256]

Base images come from the procedural renderer. Each base gets edited copies that ARE
duplicates (crop up to 10%, resize, JPEG quality 30-95, brightness +-20%, horizontal flip,
alone and combined) and distinct near neighbours that are NOT: another synthetic person in
the same scene (same seed), the same person in another scene, and the same frame with one
visible attribute changed (eyewear, head pose, hair colour, hat). All bases go into the
store; every copy and neighbour is a query. A query is a true positive when it is flagged
as a duplicate of its own base, a false positive when a neighbour is flagged (or a copy is
matched to the wrong base). Printed: precision, recall and F1 of `tools.stores.embed.
image_embedding` under the shipped rule (`tools.stores.dedup.IMAGE_RULE`: a threshold raised by
the runner-up's similarity), under the plain 0.86 threshold shipped before it, and of PHash
at its default threshold (Hamming distance <= 10); the best F1 a plain threshold could reach
when fitted on this very set; recall per edit. Then, as a store grows: the share of
distinct procedural images (none a copy of another) that the check would wrongly flag as a
duplicate of an earlier one, for the rule, the plain threshold, the raw unwhitened features
and PHash, overall and by the skin tone of the new image.
Last, the identity level: dlib face descriptors of several images of each synthetic person
(other seeds, expressions and head poses), mated and non-mated cosine similarities, where
`tools.stores.dedup.IDENTITY_THRESHOLD` puts them, and the false non-match rate at a false match
rate of 1% (the operating point of the identity-preserving ageing paper).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.contracts import PlanItem  # noqa: E402
from tools.critic import faces as fx  # noqa: E402
from tools.generate.procedural import ProceduralGenerator  # noqa: E402
from tools.stores.dedup import IDENTITY_THRESHOLD, IMAGE_RULE, DuplicateRule  # noqa: E402
from tools.stores.embed import face_descriptor, image_embedding, perceptual_features  # noqa: E402
from tools.vocabulary import FACTORS  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
#: Attribute changes that make a different picture of the same frame. A changed expression or
#: closed eyes alter a few percent of the pixels: no global perceptual embedding (nor PHash)
#: tells those apart from a re-encoded copy, and they are not planted as negatives.
NEIGHBOUR_FACTORS = ("eyewear", "head_pose", "hair_color", "hat")
PHASH_DEFAULT = 10
#: The plain threshold shipped before the runner-up rule, printed beside it.
PLAIN_THRESHOLD = 0.86


def crop(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Remove up to 10% of the width and of the height, split at random between sides."""
    h, w = img.shape[:2]
    fx, fy = rng.uniform(0.03, 0.10, 2)
    left, top = rng.uniform(0, 1, 2)
    x0, y0 = int(w * fx * left), int(h * fy * top)
    x1, y1 = w - int(w * fx * (1 - left)), h - int(h * fy * (1 - top))
    return img[y0:y1, x0:x1]


def resize(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    scale = float(rng.choice([0.5, 0.75, 1.5, 2.0]))
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=interp)


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    quality = int(rng.integers(30, 96))
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def brightness(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gain = float(rng.choice([rng.uniform(0.8, 0.9), rng.uniform(1.1, 1.2)]))
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def hflip(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(img[:, ::-1])


EDITS = {"crop": crop, "resize": resize, "jpeg": jpeg, "brightness": brightness, "hflip": hflip}


def edited_copies(img: np.ndarray, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Each edit alone, two at random, and all five (JPEG last, as a re-save would be)."""
    out = [(name, fn(img, rng)) for name, fn in EDITS.items()]
    names = list(rng.choice(list(EDITS), size=2, replace=False))
    out.append(("+".join(names), _chain(img, names, rng)))
    order = ["crop", "resize", "brightness", "hflip", "jpeg"]
    out.append(("all", _chain(img, order, rng)))
    return out


def _chain(img: np.ndarray, names: list[str], rng: np.random.Generator) -> np.ndarray:
    for name in names:
        img = EDITS[name](img, rng)
    return img


def planted_set(n: int, size: int, seed: int):
    """(bases, queries): bases as (id, image); queries as (kind, base id, image, positive)."""
    rng = np.random.default_rng(seed)
    gen = ProceduralGenerator(image_size=size)
    bases, queries = [], []
    for i in range(n):
        attrs = {f: str(rng.choice(FACTORS[f])) for f in
                 ("skin_tone", "expression", "eyewear", "head_pose", "eyes", "hair_color", "hat")}
        attrs["mask"] = "none"
        item = PlanItem(id=f"d{i:04d}", **{"class": "face"}, seed=int(rng.integers(2**40)),
                        identity=f"person-{i}", attributes=attrs)
        img, _ = gen.render_clean(item)
        bases.append((item.id, img))
        for kind, copy in edited_copies(img, rng):
            queries.append((kind, item.id, copy, True))
        # distinct near neighbours: another person in the same scene, the same person in
        # another scene, the same frame with a visibly different attribute
        other = item.model_copy(update={"identity": f"person-{i}-b", "id": f"{item.id}-id"})
        queries.append(("neighbour:identity", item.id, gen.render_clean(other)[0], False))
        moved = item.model_copy(update={"seed": int(rng.integers(2**40)), "id": f"{item.id}-sc"})
        queries.append(("neighbour:scene", item.id, gen.render_clean(moved)[0], False))
        factor = str(rng.choice(NEIGHBOUR_FACTORS))
        levels = [lv for lv in FACTORS[factor] if lv != attrs[factor]]
        changed = dict(attrs, **{factor: str(rng.choice(levels))})
        near = item.model_copy(update={"attributes": changed, "id": f"{item.id}-{factor}"})
        queries.append((f"neighbour:{factor}", item.id, gen.render_clean(near)[0], False))
    return bases, queries


def score(best_ids, flags, queries) -> dict:
    """Precision, recall and F1 of the flagged queries (and per query kind)."""
    tp = fp = fn = 0
    per_kind = defaultdict(lambda: [0, 0])
    for (kind, base, _, positive), match, flagged in zip(queries, best_ids, flags, strict=True):
        key = kind.split(":")[0] if not positive else kind
        per_kind[key][1] += 1
        if positive:
            if flagged and match == base:
                tp += 1
                per_kind[key][0] += 1
            else:
                fn += 1
                fp += int(flagged)  # matched to the wrong base
        elif flagged:
            fp += 1
            per_kind[key][0] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn,
            "per_kind": {k: v[0] / v[1] for k, v in per_kind.items()}}


def best_threshold(best_ids, best_sims, queries, candidates, higher_is_better=True):
    results = [(score(best_ids, best_sims >= t if higher_is_better else best_sims <= t,
                      queries)["f1"], t) for t in candidates]
    return max(results)


def top_two(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a similarity matrix: index of the best column, its value, the runner-up."""
    order = np.argsort(-sims, axis=1)[:, :2]
    best, runner_up = np.take_along_axis(sims, order, axis=1).T
    return order[:, 0], best, runner_up


def rule_flags(best: np.ndarray, runner_up: np.ndarray, rule: DuplicateRule) -> np.ndarray:
    return np.array([rule.is_duplicate(b, r) for b, r in zip(best, runner_up, strict=True)])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--distinct", type=int, default=1000,
                        help="distinct images for the false-duplicate growth figure")
    parser.add_argument("--identities", type=int, default=25)
    parser.add_argument("--per-identity", type=int, default=5)
    return parser.parse_args()


def embedding_match(bases: list, queries: list) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                          float]:
    """Ours: each query's nearest base, its similarity and the runner-up's; ms per image."""
    t = time.perf_counter()
    base_emb = np.stack([image_embedding(img) for _, img in bases])
    query_emb = np.stack([image_embedding(q[2]) for q in queries])
    ours_ms = (time.perf_counter() - t) / (len(bases) + len(queries)) * 1e3
    nearest, ours_sims, runner_up = top_two(query_emb @ base_emb.T)
    return nearest, ours_sims, runner_up, ours_ms


def phash_match(bases: list, queries: list) -> tuple[Any, np.ndarray, float]:
    """PHash (imagededup): the hasher, each query's hamming distance to every base, ms per
    image."""
    from imagededup.methods import PHash

    phash = PHash(verbose=False)
    t = time.perf_counter()
    base_hash = [phash.encode_image(image_array=img) for _, img in bases]
    query_hash = [phash.encode_image(image_array=q[2]) for q in queries]
    phash_ms = (time.perf_counter() - t) / (len(bases) + len(queries)) * 1e3
    base_bits = np.array([[int(c, 16) >> s & 1 for c in h for s in (3, 2, 1, 0)]
                          for h in base_hash])
    query_bits = np.array([[int(c, 16) >> s & 1 for c in h for s in (3, 2, 1, 0)]
                           for h in query_hash])
    dist = (query_bits[:, None, :] != base_bits[None, :, :]).sum(axis=2)
    return phash, dist, phash_ms


def print_similarities(queries: list, ours: dict, ph: dict, ours_sims: np.ndarray) -> None:
    """Recall per kind of edit, and how close near neighbours and edited copies come."""
    print(f"\n{'query kind':26s} {'embedding':>9s} {'PHash':>7s}   (recall; for neighbours: "
          "false-positive rate)")
    for kind in sorted(ours["per_kind"], key=lambda k: (k == "neighbour", k)):
        print(f"{kind:26s} {ours['per_kind'][kind]:9.2f} {ph['per_kind'][kind]:7.2f}")
    neighbours = [q for q in queries if not q[3]]
    by_factor = defaultdict(list)
    for q, sim in zip(queries, ours_sims, strict=True):
        if not q[3]:
            by_factor[q[0]].append(sim)
    print("\nnear-neighbour similarity (embedding), median / max:")
    for kind, values in sorted(by_factor.items()):
        print(f"  {kind:26s} {np.median(values):.3f} / {np.max(values):.3f}")
    pos = [s for q, s in zip(queries, ours_sims, strict=True) if q[3]]
    print(f"edited-copy similarity, min / 1st percentile: {np.min(pos):.3f} / "
          f"{np.percentile(pos, 1):.3f} ({len(neighbours)} neighbours, {len(pos)} copies)")


def raw_best_threshold(bases: list, queries: list, ids: list[str]) -> tuple:
    """Raw features (no whitening) at their own best threshold, for comparison."""
    raw_b = np.stack([perceptual_features(img) for _, img in bases])
    raw_q = np.stack([perceptual_features(q[2]) for q in queries])
    raw_s = raw_q @ raw_b.T
    raw_ids = [ids[j] for j in raw_s.argmax(axis=1)]
    raw_best = best_threshold(raw_ids, raw_s.max(axis=1), queries, np.arange(0.5, 1.0, 0.005))
    print(f"\nraw features, unwhitened: best F1 {raw_best[0]:.3f} at cos >= {raw_best[1]:.3f}")
    return raw_best


def print_growth(distinct: int, growth: dict, by_tone: dict) -> None:
    print(f"\nfalse duplicates as the store grows ({distinct} distinct procedural images,"
          " each checked against all earlier ones):")
    print(f"{'images stored':>14s} {'shipped rule':>12s} {'plain ' + str(PLAIN_THRESHOLD):>11s} "
          f"{'raw features':>13s} {'PHash':>7s}")
    for n, rates in growth.items():
        print(f"{n:14,d} {rates[0]:12.1%} {rates[1]:11.1%} {rates[2]:13.1%} {rates[3]:7.1%}")
    print("  by skin tone of the new image, all images stored (the darkest sit closer together):")
    for group, rates in by_tone.items():
        print(f"  {group:12s} {rates[0]:12.1%} {rates[1]:11.1%} {rates[2]:13.1%} {rates[3]:7.1%}")


def print_identity(args: argparse.Namespace, ident: dict) -> None:
    print(f"\nidentity level: dlib descriptors of {args.identities} procedural people x "
          f"{args.per_identity} images (cosine similarity, 5th / 50th / 95th percentile)")
    print(f"  same person:      {ident['mated'][0]:.3f} / {ident['mated'][1]:.3f} / "
          f"{ident['mated'][2]:.3f}")
    print(f"  different people: {ident['non_mated'][0]:.3f} / {ident['non_mated'][1]:.3f} / "
          f"{ident['non_mated'][2]:.3f}")
    print(f"  at IDENTITY_THRESHOLD {IDENTITY_THRESHOLD}: {ident['fnmr_at_threshold']:.1%} of "
          f"same-person pairs fall below it, {ident['fmr_at_threshold']:.1%} of "
          "different-person pairs reach it")
    print(f"  FNMR at FMR 1%: {ident['fnmr_at_fmr1']:.1%} (threshold {ident['thr_fmr1']:.3f})")


def main() -> None:
    args = parse_args()
    t0 = time.perf_counter()
    bases, queries = planted_set(args.n, args.size, args.seed)
    n_pos = sum(q[3] for q in queries)
    print(f"planted set: {len(bases)} bases, {n_pos} edited copies, {len(queries) - n_pos} "
          f"near neighbours ({time.perf_counter() - t0:.1f}s)")
    ids = [b[0] for b in bases]
    nearest, ours_sims, runner_up, ours_ms = embedding_match(bases, queries)
    ours_ids = [ids[j] for j in nearest]
    phash, dist, phash_ms = phash_match(bases, queries)
    ph_ids = [ids[j] for j in dist.argmin(axis=1)]
    ph_dist = dist.min(axis=1)

    ours = score(ours_ids, rule_flags(ours_sims, runner_up, IMAGE_RULE), queries)
    plain = score(ours_ids, ours_sims >= PLAIN_THRESHOLD, queries)
    ph = score(ph_ids, ph_dist <= PHASH_DEFAULT, queries)
    ours_best = best_threshold(ours_ids, ours_sims, queries, np.arange(0.5, 1.0, 0.005))
    ph_best = best_threshold(ph_ids, ph_dist, queries, range(0, 33), higher_is_better=False)

    print(f"\n{'method':34s} {'P':>6s} {'R':>6s} {'F1':>6s}   best F1 (threshold)   ms/img")
    print(f"{'embedding, shipped rule':34s} {ours['precision']:6.3f} "
          f"{ours['recall']:6.3f} {ours['f1']:6.3f}                        {ours_ms:5.2f}")
    print(f"{'embedding, plain cos >= ' + str(PLAIN_THRESHOLD):34s} {plain['precision']:6.3f} "
          f"{plain['recall']:6.3f} {plain['f1']:6.3f}   {ours_best[0]:.3f} ({ours_best[1]:.3f})")
    print(f"{'PHash, hamming <= 10 (default)':34s} {ph['precision']:6.3f} {ph['recall']:6.3f} "
          f"{ph['f1']:6.3f}   {ph_best[0]:.3f} ({ph_best[1]})"
          f"           {phash_ms:5.2f}")
    print_similarities(queries, ours, ph, ours_sims)
    raw_best = raw_best_threshold(bases, queries, ids)
    growth, by_tone = false_duplicate_growth(args.distinct, args.size, phash, raw_best[1])
    print_growth(args.distinct, growth, by_tone)
    ident = identity_level(args.identities, args.per_identity, args.size)
    print_identity(args, ident)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_dedup.json").write_text(json.dumps(
        {"embedding": ours, "phash": ph, "embedding_best": ours_best, "phash_best": ph_best,
         "raw_best": raw_best, "rule": IMAGE_RULE.model_dump(), "plain": plain, "n": args.n,
         "false_duplicate_growth": growth, "false_duplicates_by_tone": by_tone,
         "identity": ident}, indent=1, default=float))


def identity_level(people: int, per: int, size: int) -> dict:
    """Mated / non-mated descriptor similarities of procedural identities."""
    rng = np.random.default_rng(777)
    gen = ProceduralGenerator(image_size=size)
    descriptors, labels = [], []
    for p in range(people):
        fixed = {f: str(rng.choice(FACTORS[f])) for f in ("skin_tone", "gender", "age_group")}
        for _ in range(per):
            attrs = dict(fixed, expression=str(rng.choice(FACTORS["expression"])),
                         head_pose=str(rng.choice(["frontal", "left", "right"])),
                         eyewear="none", hat="none", mask="none")
            item = PlanItem(id="i", **{"class": "face"}, seed=int(rng.integers(2**40)),
                            identity=f"person-{p}", attributes=attrs)
            img, _ = gen.render_clean(item)
            found = fx.analyse(img)
            if found:
                descriptors.append(face_descriptor(img, found[0].hog_box))
                labels.append(p)
    unit = np.stack(descriptors) / np.linalg.norm(descriptors, axis=1, keepdims=True)
    sims = unit @ unit.T
    upper = np.triu_indices(len(unit), 1)
    same = np.array(labels)[upper[0]] == np.array(labels)[upper[1]]
    mated, non_mated = sims[upper][same], sims[upper][~same]
    thr = float(np.percentile(non_mated, 99))
    return {
        "mated": np.percentile(mated, [5, 50, 95]).tolist(),
        "non_mated": np.percentile(non_mated, [5, 50, 95]).tolist(),
        "fnmr_at_threshold": float(np.mean(mated < IDENTITY_THRESHOLD)),
        "fmr_at_threshold": float(np.mean(non_mated >= IDENTITY_THRESHOLD)),
        "thr_fmr1": thr,
        "fnmr_at_fmr1": float(np.mean(mated < thr)),
    }


def false_duplicate_growth(n: int, size: int, phash, raw_threshold: float):
    """Share of images flagged against earlier distinct ones, at several store sizes, and
    with all stored by the new image's skin tone (light monk_1-5, mid 6-7, dark 8-10)."""
    rng = np.random.default_rng(12345)
    gen = ProceduralGenerator(image_size=size)
    emb, raw, bits, tones = [], [], [], []
    for i in range(n):
        attrs = {f: str(rng.choice(FACTORS[f])) for f in
                 ("skin_tone", "expression", "eyewear", "head_pose", "eyes", "hair_color", "hat")}
        faces = 1 if rng.random() < 0.8 else int(rng.integers(2, 5))
        item = PlanItem(id=f"g{i}", **{"class": "face"}, seed=int(rng.integers(2**40)),
                        attributes=attrs, faces=faces)
        img, _ = gen.render_clean(item)
        tones.append(int(attrs["skin_tone"].split("_")[1]))
        emb.append(image_embedding(img))
        raw.append(perceptual_features(img))
        code = phash.encode_image(image_array=img)
        bits.append([int(c, 16) >> s & 1 for c in code for s in (3, 2, 1, 0)])
    emb_s, raw_s = np.stack(emb) @ np.stack(emb).T, np.stack(raw) @ np.stack(raw).T
    bits_a = np.array(bits)
    ham = (bits_a[:, None, :] != bits_a[None, :, :]).sum(axis=2)
    def ruled(row: np.ndarray) -> bool:
        top = np.sort(row)[::-1]
        return IMAGE_RULE.is_duplicate(float(top[0]), float(top[1]) if len(top) > 1 else 0.0)

    checks = ((emb_s, ruled), (emb_s, lambda v: (v >= PLAIN_THRESHOLD).any()),
              (raw_s, lambda v: (v >= raw_threshold).any()),
              (ham, lambda v: (v <= PHASH_DEFAULT).any()))
    flagged = np.array([[flag(matrix[k, :k]) for k in range(1, n)] for matrix, flag in checks])
    out = {size_n: flagged[:, : size_n - 1].mean(axis=1).tolist()
           for size_n in sorted({max(n // 4, 2), max(n // 2, 2), n})}
    tone = np.array(tones[1:])
    groups = {"monk_1-5": tone <= 5, "monk_6-7": (tone >= 6) & (tone <= 7), "monk_8-10": tone >= 8}
    by_tone = {name: flagged[:, mask].mean(axis=1).tolist() for name, mask in groups.items()}
    return out, by_tone


if __name__ == "__main__":
    main()
