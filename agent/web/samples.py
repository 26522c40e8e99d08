"""Sample images for the review page: one per class, one per level of every factor.

Drawn with the build's own backend (the procedural renderer without injected faults; a
diffusion model when the spec names one), from items made for the purpose: the class's fixed
attributes, the level asked for, and the commonest allowed level of every other factor. Cached in
DIR/samples/ under a key that hashes everything the pixels depend on, so a cached sample is
never stale and a changed plan draws only what changed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from agent.language.spec import DatasetSpec
from agent.planning.diffusion_prompts import build_prompt
from tools.atomic import write_text
from tools.config import IdentityConditionedConfig, ProceduralConfig
from tools.contracts import PlanItem

SAMPLES = "samples"
TIMINGS = "timings.json"


@dataclass(frozen=True)
class Sample:
    key: str
    group: str
    """The class name, or the factor whose level this sample shows."""
    label: str
    item: PlanItem


def _item(spec: DatasetSpec, class_name: str, want: dict[str, str], seed: int) -> PlanItem | None:
    """An item of `class_name` with the `want` levels, every other factor at its commonest
    allowed level (a sample of `smile` should not also wear the rarer mask); None when the
    class or a constraint rules the combination out."""
    cspec = spec.class_spec(class_name)
    fixed = dict(cspec.attributes) if cspec else {}
    if any(fixed.get(k, v) != v for k, v in want.items()):
        return None
    attrs = {**fixed, **want}
    for f in spec.factors:
        if f.name in attrs:
            continue
        targets = f.targets()
        for level in sorted(f.level_names(), key=lambda lv: -targets.get(lv, 0.0)):
            trial = {**attrs, f.name: level}
            if all(c.allows(trial) for c in spec.rules()):
                attrs[f.name] = level
                break
    for f in spec.factors:
        for dattr, dlevel in f.derived().get(attrs.get(f.name, ""), {}).items():
            attrs[dattr] = dlevel
    if not all(c.allows(attrs) for c in spec.rules()):
        return None
    faces = spec.faces_range()[0]
    prompt, negative = build_prompt(
        attrs, style=spec.generation.style, faces=faces,
        description=cspec.description if cspec else "",
    )
    identity = "sample" if spec.identities is not None else None
    return PlanItem(id="sample", class_name=class_name, attributes=attrs, seed=seed,
                    prompt=prompt, negative_prompt=negative, faces=faces, identity=identity)


def sample_cells(spec: DatasetSpec) -> list[Sample]:
    """Every class, then every level of every factor (drawn in the first class that allows it)."""
    gen = spec.generation
    out: list[Sample] = []

    def add(group: str, label: str, item: PlanItem | None) -> None:
        if item is None:
            return
        what = [gen.backend, gen.model, spec.image_size, item.model_dump(mode="json")]
        key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:20]
        out.append(Sample(key, group, label, item.model_copy(update={"id": key})))

    for i, c in enumerate(spec.classes):
        add(c.name, c.name, _item(spec, c.name, {}, spec.seed + i))
    for f in spec.factors:
        for j, level in enumerate(f.level_names()):
            item = next(
                (it for c in spec.classes
                 if (it := _item(spec, c.name, {f.name: level}, spec.seed + 101 * (j + 1)))),
                None,
            )
            add(f.name, level, item)
    return out


class SampleRenderer:
    """Renders samples on demand, one at a time, with the spec's backend; remembers how long a
    render took (the estimate's measured generation time)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / SAMPLES
        self._lock = threading.Lock()
        self._generator = None
        self._backend: tuple | None = None
        self.seconds: list[float] = self._timings()

    def path(self, key: str) -> Path:
        return self.dir / f"{key}-a0.png"

    def render(self, spec: DatasetSpec, sample: Sample) -> Path:
        """The sample's PNG, drawn now unless cached."""
        path = self.path(sample.key)
        if path.exists():
            return path
        with self._lock:
            if path.exists():
                return path
            generator = self._generator_for(spec)
            self.dir.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            generator.generate([sample.item], self.dir, attempt=0)
            self.seconds = [*self.seconds, time.perf_counter() - start][-200:]
            write_text(self.dir / TIMINGS, json.dumps({"render_seconds": self.seconds}) + "\n")
        return path

    def _timings(self) -> list[float]:
        """Render times measured by earlier sessions (kept beside the samples)."""
        try:
            data = json.loads((self.dir / TIMINGS).read_text(encoding="utf-8"))
            return [float(x) for x in data["render_seconds"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def cached(self, samples: list[Sample]) -> int:
        return sum(self.path(s.key).exists() for s in samples)

    def _generator_for(self, spec: DatasetSpec):
        from tools.generate import get_generator

        gen = spec.generation
        # Samples show the look, so no imitated faults; an identity build's samples are drawn
        # text-to-image (there is no person's first image to condition on yet).
        config = gen.backend_config()
        if isinstance(config, IdentityConditionedConfig):
            config = config.diffusers
        if isinstance(config, ProceduralConfig):
            config = config.model_copy(update={"fault_rate": 0.0})
        wanted = (gen.backend, config.model_dump_json(), spec.image_size)
        if self._generator is None or self._backend != wanted:
            self._generator = get_generator(config, image_size=spec.image_size)
            self._backend = wanted
        return self._generator
