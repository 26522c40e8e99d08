"""What a plan will cost before it runs: images, attempts, time and disk.

Attempts come from the share of attempts accepted so far in this build (once there are enough
to mean something), otherwise from a default per backend. Time per attempt is measured: from
this build's own stage timings when it has run, else from the samples just rendered on this
machine plus the critic's measured cost (design notes: critique 13 s and dedup 2 s for the
300-image quickstart on 2 cores). Disk is the mean size of the images already drawn (build
images, else samples) times the attempts, since rejected images are kept for the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from agent.language.spec import DatasetSpec
from tools.critic.small import eyewear_unread
from tools.generate import capabilities
from tools.stores.manifest import Manifest

MIN_MEASURED = 20
"""Attempts finished before the build's own acceptance rate replaces the default."""
CHECK_SECONDS = (13.0 + 2.0) / 300
"""Critique and duplicate check per attempt on this project's 2-core machines."""
_STAGES = ("generate", "critique", "dedup")


@dataclass
class Estimate:
    images: int
    acceptance: float
    acceptance_source: str
    attempts: int
    budget: int
    seconds: float
    seconds_source: str
    disk_bytes: int
    disk_source: str
    gpu: bool

    @property
    def hours(self) -> float:
        return self.seconds / 3600


def estimate(
    spec: DatasetSpec,
    *,
    manifest: Manifest | None,
    events: list[dict],
    sample_seconds: list[float],
    image_files: list[Path],
) -> Estimate:
    images = spec.total
    backend = spec.generation.backend
    can = capabilities(backend)
    budget = math.ceil(spec.budget.max_attempts_factor * images)
    counts = manifest.status_counts() if manifest is not None else {}
    finished = sum(counts.get(s, 0) for s in ("accepted", "rejected", "duplicate"))
    if finished >= MIN_MEASURED:
        acceptance = max(counts.get("accepted", 0) / finished, 1 / spec.budget.max_attempts_factor)
        acceptance_source = f"measured on this build's {finished:,} attempts"
    else:
        config = spec.generation.backend_config()
        acceptance = can.acceptance * (1 - getattr(config, "fault_rate", 0.0))
        acceptance_source = f"default for the {backend} backend"
    attempts = min(budget, math.ceil(images / acceptance))
    acceptance_source += _unjudged(spec)

    stage_total = sum(float(e.get("stages", {}).get(s, 0.0)) for e in events
                      if e.get("event") == "timing" for s in _STAGES)
    if finished >= MIN_MEASURED and stage_total > 0:
        per_attempt = stage_total / finished
        seconds_source = "this build's own timings"
    elif sample_seconds:
        per_attempt = sum(sample_seconds) / len(sample_seconds) + CHECK_SECONDS
        seconds_source = f"{len(sample_seconds)} sample render(s) on this machine + critic"
    else:
        per_attempt = can.seconds_per_image + CHECK_SECONDS
        seconds_source = "defaults (no sample rendered yet)"
    sizes = [p.stat().st_size for p in image_files[:200] if p.exists()]
    if sizes:
        mean = sum(sizes) / len(sizes)
        disk_source = f"the mean size of {len(sizes)} image(s) drawn here"
    else:
        mean = spec.image_size**2 * 1.2
        disk_source = "1.2 bytes a pixel (no image drawn yet)"
    return Estimate(
        images=images,
        acceptance=acceptance,
        acceptance_source=acceptance_source,
        attempts=attempts,
        budget=budget,
        seconds=attempts * per_attempt,
        seconds_source=seconds_source,
        disk_bytes=int(attempts * mean),
        disk_source=disk_source,
        gpu=can.needs_gpu,
    )


def _unjudged(spec: DatasetSpec) -> str:
    """What the critic cannot judge at the spec's image size, said beside the acceptance it
    shapes: eyewear asked of faces too small to read passes unchecked."""
    asked = {f.name for f in spec.factors} | {k for c in spec.classes for k in c.attributes}
    why = eyewear_unread(spec.image_size, spec.faces_range()[1]) if "eyewear" in asked else ""
    return f"; eyewear not judged: {why}" if why else ""
