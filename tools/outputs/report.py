"""The build report: one self-contained `report.html` a person would rather look at than read.

It answers, in this order: did the build deliver what was asked, as independent checks see
it (headline, `report_headline`), where is it short and why (plan versus achieved per class and
per attribute cell), what was rejected and is the generator fair across groups (pass rate and
faithfulness per skin tone, age group, gender: the disparities the face-generation audit
measured; asked-for versus labelled and versus seen distributions), what the images look like
(thumbnails: accepted, rejected with reasons, duplicate pairs), how the trained model did on
the held-out test split, and how identities separate (mated versus non-mated similarity).
Everything is inline: CSS, SVG charts and base64 JPEG thumbnails; the page loads nothing
from anywhere.

The figures come from `report_analysis` (and the audit from `report_audit`), the charts from
`report_charts`; this module adds the thumbnails and the training view and renders the page.
"""

from __future__ import annotations

import base64
import io
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from PIL import Image, ImageDraw

from tools.atomic import write_text
from tools.contracts import ManifestRecord, Status
from tools.outputs import report_audit as audit
from tools.outputs import report_charts as charts
from tools.outputs.contracts import ReportInputs
from tools.outputs.report_analysis import (
    cell_tables,
    class_rows,
    disparity,
    distributions,
    fnmr_at_fmr,
    group_stats,
    reason_matrix,
    rejection_reasons,
)
from tools.outputs.report_headline import headline

#: Factors whose per-level disparities the report always breaks out (arXiv 2309.07277).
DEMOGRAPHIC_FACTORS: tuple[str, ...] = ("skin_tone", "age_group", "gender", "ethnicity")
STATUS_COLORS = {
    "accepted": "#2f9e44",
    "rejected": "#e03131",
    "duplicate": "#f08c00",
    "pending": "#adb5bd",
}
_TEMPLATE = "report_template.html"


# --------------------------------------------------------------------------- images


def thumbnail(path: Path, px: int, boxes: Sequence[Sequence[float]] = (),
              box_color: str = "#40c057") -> str | None:
    """A small JPEG as a data URI, with face boxes drawn; None when the image is unreadable."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
    except (OSError, ValueError):
        return None
    if boxes:
        draw = ImageDraw.Draw(im)
        line = max(1, round(max(im.size) / px))
        for x0, y0, x1, y1 in boxes:
            draw.rectangle((x0, y0, x1, y1), outline=box_color, width=line)
    im.thumbnail((px, px), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=72, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _path(record: ManifestRecord, base: Path | None) -> Path:
    path = Path(record.path)
    return path if path.is_absolute() or base is None else base / path


def _spread(items: list, n: int) -> list:
    """`n` items evenly spread over the list (deterministic)."""
    if n <= 0 or not items:
        return []
    if len(items) <= n:
        return items
    return [items[int(i * len(items) / n)] for i in range(n)]


def _caption(record: ManifestRecord) -> str:
    return " · ".join(v for _, v in sorted(record.attributes.items())[:3])


def gallery(inputs: ReportInputs, classes: Sequence[str]) -> dict[str, Any]:
    """Thumbnails: accepted per class, rejected (varied reasons), duplicate pairs."""
    base, px = inputs.base_dir, inputs.thumb_px
    records = sorted(inputs.records, key=lambda r: r.image_id)
    accepted = {
        cls: [
            {"src": thumbnail(_path(r, base), px, r.boxes), "id": r.image_id,
             "caption": _caption(r)}
            for r in _spread([r for r in records if r.class_name == cls
                              and r.status == Status.accepted], inputs.gallery_per_class)
        ]
        for cls in classes
    }
    by_reason: dict[str, list[ManifestRecord]] = defaultdict(list)
    for r in records:
        if r.status == Status.rejected:
            by_reason[rejection_reasons(r)[0]].append(r)
    picked: list[ManifestRecord] = []
    queues = sorted(by_reason.values(), key=len, reverse=True)
    while len(picked) < inputs.rejected_limit and any(queues):
        for queue in queues:
            if queue and len(picked) < inputs.rejected_limit:
                picked.append(queue.pop(0))
    rejected = [
        {"src": thumbnail(_path(r, base), px), "id": r.image_id, "class": r.class_name,
         "reasons": ", ".join(rejection_reasons(r))}
        for r in picked
    ]
    by_id = {r.image_id: r for r in inputs.records}
    pairs = []
    for r in records:
        if len(pairs) >= inputs.duplicate_limit:
            break
        if r.status == Status.duplicate and r.duplicate_of in by_id:
            original = by_id[r.duplicate_of]
            pairs.append({
                "a": thumbnail(_path(original, base), px), "a_id": original.image_id,
                "b": thumbnail(_path(r, base), px), "b_id": r.image_id,
                "similarity": r.similarity,
            })
    return {"accepted": accepted, "rejected": rejected, "pairs": pairs}


def every_image(inputs: ReportInputs) -> list[dict[str, str]]:
    """Every judged image, for the gallery's pager: it loads them from beside the report
    (record paths are relative to the build directory, where report.html is written), so the
    page stays small for any number of images."""
    rows = []
    for r in sorted(inputs.records, key=lambda r: r.image_id):
        if r.status == Status.pending or not r.path:
            continue
        path = Path(r.path)
        src = path.as_uri() if path.is_absolute() else path.as_posix()
        why = ", ".join(rejection_reasons(r)) if r.status != Status.accepted else _caption(r)
        rows.append({"id": r.image_id, "cls": r.class_name, "status": r.status.value,
                     "split": r.split, "src": src, "why": why})
    return rows


# --------------------------------------------------------------------------- training view


_METRIC_ORDER = ("images", "instances", "precision", "recall", "mAP50", "mAP50-95", "top1", "top5")


def _curve_name(key: str) -> str:
    return key.replace("metrics/", "").replace("(B)", "").replace("accuracy_", "")


def training_view(training: dict[str, Any] | None) -> dict[str, Any] | None:
    if not training:
        return None
    curves = training.get("curves") or {}
    losses = {k: v for k, v in curves.items() if "loss" in k}
    scores = {_curve_name(k): v for k, v in curves.items() if k.startswith("metrics/")}
    per_class = training.get("per_class") or {}
    present = {k for v in per_class.values() for k in v}
    columns = [k for k in _METRIC_ORDER if k in present] + sorted(present - set(_METRIC_ORDER))
    return {
        "overall": training.get("overall") or {},
        "face_detection": training.get("face_detection") or {},
        "columns": columns,
        "per_class": per_class,
        "loss_chart": Markup(charts.line_chart(losses, label="training and validation losses")),
        "score_chart": Markup(charts.line_chart(scores, y_range=(0.0, 1.0),
                                                label="validation metrics per epoch")),
        "meta": {k: training.get(k) for k in ("task", "model", "device", "epochs", "imgsz",
                                              "train_seconds", "split")},
        "images": training.get("images") or {},
        "collages": training.get("collage_images") or 0,
    }


def headline_metric(training: dict[str, Any] | None) -> tuple[str, float] | None:
    """The one figure that sums up the model on the test split (mAP50 or top-1), labelled
    as class-aware where the report also shows the classes-merged mAP50 beside it."""
    overall = (training or {}).get("overall") or {}
    merged = bool((training or {}).get("face_detection"))
    mAP50 = "test mAP50, classes told apart" if merged else "test mAP50"
    for key, label in (("mAP50", mAP50), ("top1", "test top-1")):
        if key in overall:
            return label, float(overall[key])
    return None


# --------------------------------------------------------------------------- render


def build_view(inputs: ReportInputs) -> dict[str, Any]:
    """Everything the template shows, computed (kept separate from rendering for tests)."""
    rows = class_rows(inputs)
    classes = [r.name for r in rows]
    status = Counter(r.status.value for r in inputs.records)
    finished = sum(status.get(s, 0) for s in ("accepted", "rejected", "duplicate"))
    target = sum(inputs.class_targets.values())
    accepted_planned = sum(min(r.accepted, r.target) for r in rows if r.target)
    short_classes = [r for r in rows if r.target and r.shortfall]
    groups = []
    present = {f for r in inputs.records for f in r.attributes}
    for factor in [f for f in DEMOGRAPHIC_FACTORS if f in present]:
        stats = group_stats(inputs.records, factor)
        groups.append({"factor": factor, "rows": stats, "disparity": disparity(stats),
                       "chart": Markup(charts.hbars([(g.level, g.pass_rate) for g in stats],
                                                    max_value=1.0,
                                                    label=f"pass rate by {factor}"))})
    other_factors = sorted(present - set(DEMOGRAPHIC_FACTORS))
    others = [{"factor": f, "rows": group_stats(inputs.records, f)} for f in other_factors]
    widest = max((g for g in groups if g["disparity"] and g["disparity"]["gap"] >= 0.005),
                 key=lambda g: g["disparity"]["gap"], default=None)
    dists = distributions(inputs)
    audit_view = audit.view(inputs.records, dists)
    truth = headline(inputs.records, inputs.requirements,
                     quotas_met=bool(target) and not short_classes, seen=audit_view["seen"],
                     real=inputs.real_faces)
    for d in dists:
        d["chart"] = Markup(charts.hbar_pairs(d["rows"], label=f"asked vs labelled {d['factor']}"))
    seconds = sum(inputs.timing.values())
    if not seconds and len(inputs.events) > 1:
        times = [e["t"] for e in inputs.events if isinstance(e.get("t"), int | float)]
        seconds = max(times) - min(times) if times else 0.0
    identity = None
    if inputs.identity and (inputs.identity.mated or inputs.identity.non_mated):
        ident = inputs.identity
        thr, fnmr = fnmr_at_fmr(ident.mated, ident.non_mated, ident.fmr)
        identity = {
            "chart": Markup(charts.histogram(
                {f"mated ({len(ident.mated)})": ident.mated,
                 f"non-mated ({len(ident.non_mated)})": ident.non_mated},
                threshold=ident.threshold, x_label=ident.metric,
                label="mated and non-mated similarity")),
            "fmr": ident.fmr, "fnmr": fnmr, "fmr_threshold": thr,
            "mated_mean": float(np.mean(ident.mated)) if ident.mated else math.nan,
            "non_mated_mean": float(np.mean(ident.non_mated)) if ident.non_mated else math.nan,
            "threshold": ident.threshold,
            "metric": ident.metric,
        }
    event_kinds = Counter(str(e.get("event", "?")) for e in inputs.events)
    t0 = min((e["t"] for e in inputs.events if isinstance(e.get("t"), int | float)), default=0)
    recent = [
        {"t": (e.get("t", t0) - t0) if isinstance(e.get("t"), int | float) else 0.0,
         "event": e.get("event", "?"),
         "detail": ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("t", "event"))[:160]}
        for e in inputs.events[-40:]
    ]
    return {
        "title": inputs.title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "inputs": inputs,
        "spec_yaml": inputs.spec_yaml,
        "classes": rows,
        "target": target,
        "accepted": status.get("accepted", 0),
        "accepted_planned": accepted_planned,
        "status": {s: status.get(s, 0) for s in STATUS_COLORS},
        "status_colors": STATUS_COLORS,
        "acceptance": status.get("accepted", 0) / finished if finished else 0.0,
        "finished": finished,
        "short_classes": short_classes,
        "complete": truth.complete,
        "truth": truth,
        "cells": cell_tables(inputs),
        "reasons": reason_matrix(inputs.records, classes),
        "groups": groups,
        "other_groups": others,
        "widest": widest,
        "distributions": dists,
        "audit": audit_view,
        "gallery": gallery(inputs, classes),
        "every_image": every_image(inputs),
        "training": training_view(inputs.training),
        "train_skipped": inputs.training is None and any(
            e.get("event") == "train_skipped" for e in inputs.events),
        "real_faces": inputs.real_faces,
        "headline_metric": headline_metric(inputs.training),
        "identity": identity,
        "seconds": seconds,
        "timing_chart": Markup(charts.hbars(
            sorted(inputs.timing.items(), key=lambda kv: -kv[1]),
            fmt=_duration, label="wall time per stage")) if inputs.timing else "",
        "event_kinds": event_kinds.most_common(),
        "recent_events": recent,
        "pct": charts.pct,
        "duration": _duration,
    }


def render_report(inputs: ReportInputs) -> str:
    """The report as one HTML string."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(_TEMPLATE).render(**build_view(inputs))


def write_report(inputs: ReportInputs, path: str | Path) -> Path:
    """Render the report and write it atomically to `path`; returns the path."""
    path = Path(path)
    write_text(path, render_report(inputs))
    return path


def _duration(seconds: float) -> str:
    if not seconds or not math.isfinite(seconds):
        return "0 s"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 10:
        return f"{minutes} min {secs:02d} s"
    if minutes < 60:  # seconds no longer matter, and the summary card stays one line
        return f"{round(seconds / 60)} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
