"""Stand-in generator, critic and embedder for driving the build graph quickly.

They follow the same contracts as the real tools (files written atomically, verdicts from
pixels, unit-norm embeddings), so the graph, manifest, checkpoints and store run for real.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from tools.atomic import write_bytes
from tools.contracts import FaceTruth, GeneratedImage, GroundTruth, PlanItem, Verdict
from tools.generate import Capabilities

#: A stand-in for a diffusion model: drawn in this process, its people read well enough to
#: reject on, holding no person by construction.
DIFFUSION_LIKE = Capabilities(
    draws_levels=False, stylised=False, reads_age_gender=True, pure_recipes=False,
    identity="none", needs_gpu=False, acceptance=0.6, seconds_per_image=0.01,
)


def _png(seed: int, side: int = 64) -> bytes:
    """A small PNG whose pixels depend only on `seed`."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _unit(seed: int, dim: int = 32) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


class FakeGenerator:
    """Writes a small file whose bytes depend only on the seed (or copy a twin's seed)."""

    name = "fake"
    model = "fake-v1"
    capabilities = DIFFUSION_LIKE

    def __init__(self, twin_every: int = 0) -> None:
        self.twin_every = twin_every
        self.calls = 0

    def generate(self, items: list[PlanItem], out_dir: Path, *, attempt: int = 0
                 ) -> list[GeneratedImage]:
        self.calls += 1
        out = []
        for item in items:
            seed = item.seed
            if self.twin_every and seed % self.twin_every == 0:
                seed = 1  # a near-copy: every such item draws the same picture
            path = Path(out_dir) / f"{item.id}-a{attempt}.png"
            write_bytes(path, _png(seed))
            out.append(GeneratedImage(
                item_id=item.id, path=str(path), width=64, height=64, backend=self.name,
                model=self.model, seed=item.seed, prompt=item.prompt,
                truth=GroundTruth(faces=[FaceTruth(box=(8, 8, 56, 56))]),
            ))
        return out


class FakeReferenceGenerator:
    """An identity-conditioned stand-in: with a reference it draws the reference's person.

    Without one it draws a new random person (a unit vector from the seed). The pixels depend
    on the seed and the reference's bytes, so a different reference gives a different file.
    `describe` is the matching face describer; `references` logs image id -> reference used.
    """

    name = "fake-identity"
    model = "fake-identity-v1"
    capabilities = DIFFUSION_LIKE.model_copy(update={"identity": "anchor"})

    def __init__(self) -> None:
        self.people: dict[str, np.ndarray] = {}  # file name -> the person drawn in it
        self.references: dict[str, Path | None] = {}
        self.calls = 0

    def generate(self, items: list[PlanItem], out_dir: Path, *, attempt: int = 0,
                 references: dict[str, Path] | None = None) -> list[GeneratedImage]:
        self.calls += 1
        out = []
        for item in items:
            ref = (references or {}).get(item.identity) if item.identity else None
            mix = hashlib.sha256(Path(ref).read_bytes()).digest()[:4] if ref else b"\0" * 4
            path = Path(out_dir) / f"{item.id}-a{attempt}.png"
            write_bytes(path, _png(item.seed ^ int.from_bytes(mix, "little")))
            self.people[path.name] = self.people[Path(ref).name] if ref else _unit(item.seed, 16)
            self.references[path.stem] = Path(ref) if ref else None
            out.append(GeneratedImage(
                item_id=item.id, path=str(path), width=64, height=64, backend=self.name,
                model=self.model, seed=item.seed, prompt=item.prompt,
                truth=GroundTruth(faces=[FaceTruth(box=(8, 8, 56, 56))]),
            ))
        return out

    def describe(self, path: Path, box: tuple[float, float, float, float]) -> np.ndarray:
        return self.people[Path(path).name]


class FakeCritic:
    """Rejects a fixed share of images, chosen by a hash of the file's bytes."""

    def __init__(self, reject_share: float = 0.25) -> None:
        self.reject_share = reject_share

    def judge(self, image_path: Path, item: PlanItem) -> Verdict:
        digest = hashlib.sha256(Path(image_path).read_bytes()).digest()
        bad = digest[0] / 256 < self.reject_share
        return Verdict(item_id=item.id, passed=not bad, score=0.2 if bad else 0.9,
                       reasons=["blurry"] if bad else [])


def fake_embedder(path: Path) -> np.ndarray:
    """Identical bytes give identical vectors; anything else is nearly orthogonal."""
    digest = hashlib.sha256(Path(path).read_bytes()).digest()
    return _unit(int.from_bytes(digest[:4], "little"))
