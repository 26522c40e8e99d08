"""The critic's face boxes against the renderer's truth, for bench/bench_critic.py: found at
IoU 0.5, mean IoU with and without the fixed correction, and the correction refitted."""

from __future__ import annotations

import cv2
import numpy as np

from tools.contracts import PlanItem
from tools.critic import CriticConfig, small
from tools.critic import faces as fx


def match_boxes(pred: list, truth: list) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU (pairs with IoU > 0)."""
    pairs = sorted(
        ((fx.box_iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_p, used_t, out = set(), set(), []
    for iou, i, j in pairs:
        if iou <= 0 or i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        out.append((i, j, iou))
    return out


def analysed(image) -> tuple[np.ndarray, list, float]:
    """The image as the critic analyses it (small ones enlarged, `small.magnify`), its truth
    boxes in that copy's pixels (IoU and the box correction do not change with scale) and
    the magnification."""
    rgb = cv2.cvtColor(cv2.imread(image.path), cv2.COLOR_BGR2RGB)
    rgb, factor = small.magnify(rgb, CriticConfig().min_analysis_side)
    return rgb, [tuple(v * factor for v in f.box) for f in image.truth.faces], factor


def box_fit(images: list, items: list[PlanItem], clean: list[int]) -> dict:
    """The critic's face boxes on clean images against the truth, and the box correction
    refitted on this run."""
    ious, raw_ious, hog_ious, offsets, found, total = [], [], [], [], 0, 0
    built_in = fx.LANDMARK_BOX_CORRECTION
    for i in clean:
        img, tboxes, factor = analysed(images[i])
        built_in = small.landmark_correction(factor) or fx.LANDMARK_BOX_CORRECTION
        obs = fx.analyse(img, expected=items[i].faces, correction=built_in)
        total += len(tboxes)
        for p, t, iou in match_boxes([o.box for o in obs], tboxes):
            if iou < 0.3:
                continue
            found += iou >= 0.5
            ious.append(iou)
            src = fx.source_box(obs[p].hog_box, obs[p].landmarks)
            raw_ious.append(fx.box_iou(src, tboxes[t]))
            hog_ious.append(fx.box_iou(obs[p].hog_box, tboxes[t]))
            w, h = src[2] - src[0], src[3] - src[1]
            tb = tboxes[t]
            offsets.append(((tb[0] - src[0]) / w, (tb[1] - src[1]) / h,
                            (tb[2] - src[2]) / w, (tb[3] - src[3]) / h))
    fitted = tuple(float(round(v, 3)) for v in np.median(offsets, axis=0))
    refit = refit_ious(images, items, clean, fitted)
    print(f"\nface boxes on clean images: {found}/{total} truth faces found at IoU >= 0.5")
    print(f"mean IoU: corrected {np.mean(ious):.3f}  (landmark extent uncorrected "
          f"{np.mean(raw_ious):.3f}, dlib HOG box {np.mean(hog_ious):.3f})")
    print(f"correction refitted on this run {fitted}: mean IoU {np.mean(refit):.3f} "
          f"(built in at this size: {tuple(round(v, 3) for v in built_in)})")
    return {"box_iou": float(np.mean(ious)),
            "box_iou_uncorrected": float(np.mean(raw_ious)),
            "box_iou_hog": float(np.mean(hog_ious)),
            "box_correction_refit": fitted, "box_iou_refit": float(np.mean(refit))}


def refit_ious(images: list, items: list[PlanItem], clean: list[int],
               fitted: tuple[float, ...]) -> list[float]:
    refit = []
    for i in clean:
        img, tboxes, _ = analysed(images[i])
        obs = fx.analyse(img, expected=items[i].faces, correction=fitted)
        for _, _, iou in match_boxes([o.box for o in obs], tboxes):
            if iou >= 0.3:
                refit.append(iou)
    return refit
