"""The dataset card (README.md of an export): what was asked, what was made, how it was
checked, what the images may and may not be used for, and, once a detector was trained on
it, how that detector does on real faces (`add_model_scores`).

Apart from the writers because it is prose for people, not a format for a loader; it reads
only the records, `ExportInfo` and the `ExportSummary` the writers produced.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from tools.atomic import write_text
from tools.contracts import ManifestRecord, Requirement, Status
from tools.outputs.contracts import SPLITS, ExportInfo, ExportSummary, class_slug
from tools.outputs.detection_score import RealFaceEvaluation
from tools.outputs.real_face_set import sources
from tools.vocabulary import VOCABULARY

LICENCE_NOTES: tuple[str, ...] = (
    "Every image in this dataset is synthetic: drawn by a generator, not photographed. "
    "No image shows a real person.",
    "dlib face models (`face_recognition_models`, used by the built-in critic): their author "
    "releases the model files into the public domain, but the 68-point landmark model "
    "`shape_predictor_68_face_landmarks.dat` was trained on the iBUG 300-W dataset, whose "
    "licence excludes commercial use, so that model cannot be used in a commercial product. "
    "The 5-point landmark model, the HOG/CNN face detectors and the ResNet face descriptor "
    "carry no such restriction. For commercial use, check which critic checks ran.",
    "Ultralytics YOLO (training code and any weights you train with it): AGPL-3.0 unless you "
    "hold an Ultralytics enterprise licence.",
    "Text-to-image models (diffusers backend): each model carries its own licence (e.g. the "
    "CreativeML OpenRAIL-M for Stable Diffusion 1.x, with use-based restrictions); read the "
    "model card of the model named above before redistributing images.",
    "The procedural renderer is part of facetory (Apache-2.0) and uses no trained weights.",
)


def dataset_card(records: list[ManifestRecord], info: ExportInfo, summary: ExportSummary) -> str:
    """The dataset card (README.md): what was asked, what is in it, how it was checked, limits."""
    out = _front_matter(info, summary)
    out += _asked_section(info)
    out += _made_section(info, summary)
    out += _variation_section([r for r in records if r.status == Status.accepted])
    out += _checked_section(records, info)
    out += _files_section(info)
    out += _limits_section()
    return "\n".join(out) + "\n"


def _front_matter(info: ExportInfo, summary: ExportSummary) -> list[str]:
    """The Hugging Face card's YAML header and the title."""
    task_category = "object-detection" if info.task == "detect" else "image-classification"
    front = {
        "pretty_name": info.name,
        "license": "other",
        "task_categories": [task_category],
        "tags": ["synthetic", "faces", "facetory"],
        "size_categories": [_size_category(summary.total_images)],
    }
    out: list[str] = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", ""]
    out += [f"# {_md(info.name)}", ""]
    out += [
        "**Every image in this dataset is synthetic.** It was generated, checked and labelled by "
        "facetory; no image shows a real person.",
        "",
    ]
    return out


def _asked_section(info: ExportInfo) -> list[str]:
    """The user's words, the task and classes, the requirements and the parsed spec."""
    out = ["## What was asked", ""]
    spec_text = info.spec_text.strip() or "(no plain-language description was recorded)"
    out += ["> " + _md(line) if line else ">" for line in spec_text.splitlines()]
    out += ["", f"Task: **{info.task}**. Classes (index: name): "
            + ", ".join(f"{i}: {_md(n)}" for i, n in enumerate(info.class_names)) + ".", ""]
    out += requirements_markdown(info.understood, info.requirements)
    if info.spec_yaml:
        out += ["<details><summary>Parsed specification</summary>", "",
                *_fenced(info.spec_yaml), "", "</details>", ""]
    return out


def _made_section(info: ExportInfo, summary: ExportSummary) -> list[str]:
    """Per class the target against the images exported per split, and any shortfall."""
    out = ["## Plan and what was made", ""]
    out += ["| class | target | train | val | test | exported |", "|---|---:|---:|---:|---:|---:|"]
    for name in info.class_names:
        got = [summary.images[s][name] for s in SPLITS]
        target = info.class_targets.get(name)
        out.append(f"| {_md(name)} | {target if target is not None else '-'} | "
                   + " | ".join(str(g) for g in got) + f" | {sum(got)} |")
    total_target = sum(info.class_targets.values()) if info.class_targets else None
    out.append(f"| **total** | {total_target if total_target is not None else '-'} | "
               + " | ".join(str(sum(summary.images[s].values())) for s in SPLITS)
               + f" | {summary.total_images} |")
    out += ["", "Labelled face boxes: "
            + ", ".join(f"{s} {summary.faces[s]}" for s in SPLITS) + "."]
    shorts = [
        (n, t - sum(summary.images[s][n] for s in SPLITS))
        for n, t in info.class_targets.items()
        if t > sum(summary.images[s].get(n, 0) for s in SPLITS)
    ]
    if shorts:
        out += ["", "**Shortfall:** " + "; ".join(f"{_md(n)} is {k} short" for n, k in shorts)
                + ". The build's budget ran out before these quotas were met; see the report."]
    if summary.skipped:
        out += ["", f"{len(summary.skipped)} accepted image(s) had no face box and are left out "
                "of the detection exports: " + _md(", ".join(sorted(summary.skipped)[:10])) + "."]
    if info.plan_summary:
        out += ["", "<details><summary>Plan summary</summary>", "",
                *_fenced(yaml.safe_dump(info.plan_summary, sort_keys=False)), "", "</details>"]
    return out


def _checked_section(records: list[ManifestRecord], info: ExportInfo) -> list[str]:
    """The generator, the critic's thresholds, the faults injected, and why images failed."""
    out = ["", "## How it was made and checked", ""]
    out += [f"- Generator: **{_md(info.generator or 'unknown')}**"
            + (f", model {_md(info.model)}" if info.model else "")]
    if info.thresholds:
        out += ["- Every image was judged by a critic that sees only pixels (face count, size, "
                "framing, sharpness, exposure, requested attributes) and by a duplicate check "
                "on image embeddings; only images that passed both are exported."]
        out += ["- Acceptance thresholds: "
                + ", ".join(f"{k} = {v:g}" for k, v in info.thresholds.items())]
    else:
        out += ["- No critic thresholds were recorded for this export."]
    out += _fault_lines(records)
    return out + _rejection_lines(records, info.class_names)


def _rejection_lines(records: list[ManifestRecord], class_names: list[str]) -> list[str]:
    """How many images ended in each status, and the reasons, overall and per class."""
    statuses = Counter(r.status.value for r in records)
    attempts = len(records)
    reasons = Counter(
        reason for r in records if r.status != Status.accepted for reason in r.reasons
    )
    out = ["", "### Rejection statistics", ""]
    out += [f"{attempts} images were generated: "
            + ", ".join(f"{statuses.get(s.value, 0)} {s.value}" for s in Status) + "."]
    if attempts:
        out += [f"Acceptance rate: {statuses.get('accepted', 0) / attempts:.1%}."]
    if not reasons:
        return out
    per_class_rejects: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.status in (Status.rejected, Status.duplicate):
            per_class_rejects[r.class_name].update(r.reasons or ["unspecified"])
    out += ["", "| reason | images |", "|---|---:|"]
    out += [f"| {_md(reason)} | {n} |" for reason, n in reasons.most_common()]
    out += ["", "| class | most common reasons |", "|---|---|"]
    for name in class_names:
        top = per_class_rejects.get(name)
        if top:
            out.append(f"| {_md(name)} | "
                       + ", ".join(f"{_md(k)} ({v})" for k, v in top.most_common(3))
                       + " |")
    return out


def _files_section(info: ExportInfo) -> list[str]:
    """Where each export format is, and the classify export's folder names."""
    out = ["", "## Files", "", "| format | where |", "|---|---|"]
    out += [
        "| YOLO detect (Ultralytics) | `yolo_detect/data.yaml` |",
        "| YOLO classify | `yolo_classify/{train,val,test}/<class>/` ("
        + ("one crop per face" if info.classify_crop else "whole images") + ") |",
        "| COCO detection | `coco/annotations/{train,val,test}.json`, images in `coco/images/` |",
        "| Hugging Face imagefolder | `hf/{train,validation,test}/metadata.jsonl` "
        "(every attribute, identity, boxes) |",
    ]
    out += ["", "Class folders of the classify export are named: "
            + ", ".join(f"`{class_slug(n)}` ({_md(n)})" for n in info.class_names) + "."]
    return out


def _limits_section() -> list[str]:
    """What the images are for and not for, and the licences of what made them."""
    out = ["", "## Intended use and limits", ""]
    out += [
        "- Intended for training and testing face detectors and attribute classifiers, for "
        "balancing or auditing demographic coverage, and for research on synthetic data.",
        "- Not for identifying real people or for inferring anyone's ethnicity, age or gender: "
        "the class and attribute labels are the *requested* properties of synthetic faces, "
        "checked only as far as the critic can measure them.",
        "- Synthetic faces are shifted from real photographs (lighting, texture, diversity); a "
        "model trained only on them should be validated on real data before any use.",
        "- Demographic categories are coarse labels chosen by the person who wrote the spec; "
        "they do not describe how people identify themselves.",
    ]
    out += ["", "## Licence notes", ""]
    out += [f"- {note}" for note in LICENCE_NOTES]
    return out


def _variation_section(accepted: list[ManifestRecord]) -> list[str]:
    """What the renderer varied that the request did not ask for, so a reader of the card
    knows every factor in the pictures (the levels are in each image's `variation`)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in accepted:
        for factor, level in r.variation.items():
            counts[factor][level] += 1
    if not counts:
        return []
    out = ["", "### Varied but not asked for", "",
           "Not balanced and not checked; written per image as `variation` in the COCO and "
           "Hugging Face metadata. The renderer draws nothing worn (glasses, hats, masks) "
           "that was not asked for.",
           "", "| factor | images per level |", "|---|---|"]
    for factor, levels in counts.items():
        title = VOCABULARY[factor].title if factor in VOCABULARY else factor.replace("_", " ")
        out.append(f"| {_md(title)} | "
                   + ", ".join(f"{_md(lv.replace('_', ' '))} {n}"
                               for lv, n in sorted(levels.items()))
                   + " |")
    return out


def _fault_lines(records: list[ManifestRecord]) -> list[str]:
    """Which accepted images carry a defect injected on purpose (their labels may be wrong:
    `injected_faults` in the COCO and HF metadata), and how many such images were caught."""
    missed = [r for r in records if r.faults and r.status == Status.accepted]
    caught = sum(1 for r in records if r.faults and r.status != Status.accepted)
    if not missed and not caught:
        return []
    line = "- Injected defects (the renderer's `fault_rate`, imitating diffusion errors): "
    if missed:
        line += (f"**{len(missed)} accepted image(s) carry one**: "
                 + ", ".join(f"{r.image_id} ({r.faults[0]})" for r in missed[:10])
                 + (" ..." if len(missed) > 10 else ""))
    if caught:
        line += ("; " if missed else "") + f"{caught} image(s) with one were rejected"
    return [line + "."]


def _md(text: str) -> str:
    """Words a person wrote, as Markdown text: HTML in them is shown, never rendered (a class
    named `"><img onerror=...>` ran script in a Markdown viewer), and a `|` cannot cut a table."""
    return html.escape(str(text), quote=False).replace("|", "\\|")


def _fenced(text: str, lang: str = "yaml") -> list[str]:
    """`text` as a fenced code block whose fence is longer than any run of backticks inside it,
    so nothing in it can close the block early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, text.rstrip(), fence]


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def requirements_markdown(understood: str, requirements: list[Requirement]) -> list[str]:
    """The requirement trace as card lines: what was understood, then one row a requirement."""
    if not requirements:
        return []
    out = ["## How each requirement was drawn and checked", ""]
    if understood:
        out += [f"Understood as: {_md(understood)}", ""]
    out += ["| asked | drawn by | checked by | flags |", "|---|---|---|---|"]
    for r in requirements:
        cells = [r.asked, r.drawn_by, r.checked_by, ", ".join(r.flags)]
        out.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return [*out, ""]


_SCORES_START, _SCORES_END = "<!-- facetory: model scores -->", "<!-- /facetory: model scores -->"


def model_scores_markdown(evaluation: RealFaceEvaluation) -> list[str]:
    """A detector trained on the export: its synthetic test score beside real faces and the
    Haar cascade's, each with its test set's size; the real photos' origin and licence."""
    rows = [("YOLO trained on this dataset", "synthetic test split", evaluation.synthetic),
            ("YOLO trained on this dataset", f"real faces ({evaluation.real_set})",
             evaluation.model),
            ("OpenCV Haar cascade", f"real faces ({evaluation.real_set})", evaluation.haar)]
    out = [_SCORES_START, "## How a detector trained on it does on real faces", "",
           "| detector | scored on | images | faces | recall | precision | mAP50 |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for name, where, s in rows:
        if s is None:
            continue
        ci = s.mAP50_ci95
        ap = f"{s.mAP50:.3f}" + (f" (95% CI {ci.low:.3f}-{ci.high:.3f})" if ci else "")
        out.append(f"| {name} | {where} | {s.images} | {s.faces} | {s.recall:.3f} | "
                   f"{s.precision:.3f} | {ap} |")
    out += ["", f"Faces found at IoU 0.5 with classes merged; YOLO at confidence >= "
            f"{evaluation.model.conf} and {evaluation.imgsz} px, the Haar cascade counting every "
            "face it returns; the interval resamples the test images."]
    if evaluation.sources:
        out += ["", "The real faces are photographs that ship inside installed packages "
                "(listed in facetory's `tools/outputs/real_faces_sources.yaml`); none is part "
                "of this dataset:", ""]
        data = sources()
        out += [f"- {p['name']} ({p['package']} `{p['file']}`): {p['licence'].strip()}"
                for p in data["photos"]]
        out.append(f"- LFW-subset faces {data['lfw']['faces'][0]}-{data['lfw']['faces'][1] - 1}"
                   f" (skimage `{data['lfw']['file']}`): {data['lfw']['licence'].strip()}")
    return [*out, _SCORES_END, ""]


def with_model_scores(card: str, evaluation: RealFaceEvaluation) -> str:
    """The card with its model-scores section replaced (or put before the intended use)."""
    if _SCORES_START in card and _SCORES_END in card:
        head, rest = card.split(_SCORES_START, 1)
        card = head + rest.split(_SCORES_END, 1)[1].lstrip("\n")
    section = "\n".join(model_scores_markdown(evaluation)) + "\n"
    anchor = "## Intended use and limits"
    return card.replace(anchor, section + anchor, 1) if anchor in card else card + "\n" + section


def add_model_scores(card_path: Path, evaluation: RealFaceEvaluation) -> None:
    """Write the scores into an export's card (written at export, before any training)."""
    if card_path.is_file():
        write_text(card_path, with_model_scores(card_path.read_text(encoding="utf-8"),
                                                evaluation))
