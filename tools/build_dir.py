"""The build directory's layout, named once so every part of facetory agrees on it.

One build = one directory (see docs: spec, plan, checkpoints, manifest, embeddings, images,
exports, training runs, report, events, lock). Code asks `BuildPaths` for a path instead of
joining strings, so a rename happens here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildPaths:
    """Paths inside one build directory; nothing is created until `ensure()` is called."""

    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def spec_txt(self) -> Path:
        """The user's words, verbatim."""
        return self.root / "spec.txt"

    def read_spec_text(self) -> str:
        """The user's words; a stray byte that is not UTF-8 (a hand edit in another encoding)
        reads as U+FFFD instead of ending the command in a traceback."""
        return self.spec_txt.read_text(encoding="utf-8", errors="replace")

    @property
    def spec_yaml(self) -> Path:
        """The parsed DatasetSpec."""
        return self.root / "spec.yaml"

    @property
    def plan_yaml(self) -> Path:
        """The plan a person reviews and edits."""
        return self.root / "plan.yaml"

    @property
    def state_db(self) -> Path:
        """LangGraph checkpoints."""
        return self.root / "state.sqlite"

    @property
    def manifest_db(self) -> Path:
        """One row per generated image."""
        return self.root / "manifest.sqlite"

    @property
    def chroma(self) -> Path:
        """The embedding store (chromadb PersistentClient directory)."""
        return self.root / "chroma"

    @property
    def images(self) -> Path:
        """Every generated image, accepted or not (rejected ones are kept for the report)."""
        return self.root / "images"

    @property
    def dataset(self) -> Path:
        """Exports: YOLO detect/classify, COCO, HF imagefolder and the dataset card."""
        return self.root / "dataset"

    @property
    def runs(self) -> Path:
        """YOLO training runs, each with its metrics.json."""
        return self.root / "runs"

    @property
    def report(self) -> Path:
        """The self-contained HTML report."""
        return self.root / "report.html"

    @property
    def events(self) -> Path:
        """What happened, one JSON object a line."""
        return self.root / "events.jsonl"

    @property
    def train_log(self) -> Path:
        """What YOLO training printed (shown live only with `--verbose`)."""
        return self.root / "train.log"

    @property
    def lock(self) -> Path:
        """One writer at a time."""
        return self.root / ".lock"

    @property
    def metrics(self) -> Path:
        """Per-stage figures (timings, identity scores) that the report reads."""
        return self.root / "metrics"

    def ensure(self) -> BuildPaths:
        """Create the root and the directories a build writes into; returns self."""
        for directory in (self.root, self.images, self.metrics):
            directory.mkdir(parents=True, exist_ok=True)
        return self
