"""The per-image work a worker runs: judge, embed, describe, and one image from recipe to
verdict in one task (draw, judge, embed, describe).

A worker process builds its critic once, in its initializer (`start_worker`); every function
here is module-level, so a process pool or a Ray actor can run it by name.

The procedural renderer's images are pure functions of their recipes
(`tools.generate.procedural.Recipe`), so a build hands the whole per-image chain of a batch
to the worker pool instead of drawing in the driver and then judging on the pool: the driver
no longer draws one image at a time while the workers wait (generation was 1.5-2.0 s of an
11.5 s build of 150 images, all of it on one core), each image is decoded by the process that
wrote it, and a face descriptor is computed only for an image the critic passed.

Every step is the function the driver itself calls at one worker (`ProceduralGenerator.draw`,
`Critic.judge`, `tools.stores.embed.embed_file`, `tools.stores.embed.describe_file`), so what
comes back is the same, bit for bit, as what the driver computes: the dataset does not depend
on the number of workers. Nothing here touches the manifest; the driver records what comes back.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import threading
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tools.config import PHOTO_BACKGROUNDS, ProceduralConfig
from tools.contracts import Box, GeneratedImage, PlanItem, Verdict
from tools.errors import FacetoryError
from tools.generate.procedural import ProceduralGenerator, Recipe

_critic: Any = None  # the critic of this worker process (see `start_worker`)
_critic_error: FacetoryError | None = None  # why it could not be built


@dataclass(frozen=True)
class RenderJob:
    """Draw `recipe` into `out_dir`, then what the build needs of the image next.

    `judge`: the plan item the critic judges the image against (None: no judging, and then
    no embedding or descriptor either); `describe`: also the face descriptor of the first
    face box, when the critic passes the image (identity datasets).
    """

    recipe: Recipe
    image_size: int
    out_dir: Path
    attempt: int
    judge: PlanItem | None = None
    describe: bool = False
    photo_backgrounds: float = PHOTO_BACKGROUNDS

    @cached_property
    def key(self) -> tuple[str, str]:
        """What decides the result: a job with an equal key draws and judges the same.

        Cached: the render-ahead bookkeeping asks for it about 18 times a job, and the repr of
        a recipe and a plan item took 1.0 s of the driver's 18 s in a 600-image build."""
        return (str(self.path), repr(self))

    @property
    def path(self) -> Path:
        from tools.generate.base import image_filename

        return self.out_dir / image_filename(self.recipe.item, self.attempt)


@dataclass
class Prepared:
    """What a `RenderJob` produced: the image, and the verdict, embedding and descriptor
    the critique and dedup stages would otherwise compute (None: not computed)."""

    image: GeneratedImage
    judged: PlanItem | None = None
    verdict: Verdict | None = None
    embedding: np.ndarray | None = None
    box: Box | None = None
    """The face box the descriptor describes: the first ground-truth face, else the first
    face the critic found (the box the build records first)."""
    descriptor: np.ndarray | None = None
    png: bytes | None = None
    """The image file's bytes, when it was drawn where the build's folder is not (a Ray
    actor on another node: `prepare_shipped`); `land` writes them into the build."""


@lru_cache(maxsize=4)
def _generator(image_size: int, photo_backgrounds: float) -> ProceduralGenerator:
    # the fault is in the recipe
    config = ProceduralConfig(photo_backgrounds=photo_backgrounds)
    return ProceduralGenerator(config, image_size=image_size)


def prepare(job: RenderJob, critic: object | None = None) -> Prepared:
    """Run `job`; `critic` judges (None: this worker's own, `worker_critic`)."""
    generator = _generator(job.image_size, job.photo_backgrounds)
    image = generator.draw(job.recipe, job.out_dir, job.attempt)
    done = Prepared(image)
    if job.judge is None:
        return done
    if critic is None:
        critic = worker_critic()
    path = Path(image.path)
    verdict = critic.judge(path, job.judge)  # type: ignore[attr-defined]
    done.judged, done.verdict = job.judge, verdict
    if not verdict.passed:
        return done  # rejected: dedup never looks at it
    from tools.stores.embed import describe_file, embed_file

    done.embedding = embed_file(path)
    truth = image.truth.faces if image.truth else []
    box = truth[0].box if truth else verdict.faces[0].box if verdict.faces else None
    if job.describe and box is not None:
        done.box, done.descriptor = box, describe_file(path, box)
    return done


def prepare_shipped(job: RenderJob, critic: object | None = None) -> Prepared:
    """`prepare` where the build's folder may not be (a Ray actor on another node): drawn,
    judged and described in a temp folder here, the file's bytes sent back in `Prepared.png`
    and the image's path set to where `land` will write it. The same pixels and verdicts as
    `prepare`: drawing does not depend on the folder."""
    with tempfile.TemporaryDirectory(prefix="facetory-job-") as tmp:
        done = prepare(replace(job, out_dir=Path(tmp)), critic)
        done.png = Path(done.image.path).read_bytes()
    done.image = done.image.model_copy(update={"path": str(job.path)})
    return done


def land(job: RenderJob, done: Prepared) -> None:
    """Write a shipped image (`prepare_shipped`) at `job.path`, atomically; nothing to do for
    one a worker already wrote there."""
    if done.png is not None:
        from tools.atomic import write_bytes

        write_bytes(job.path, done.png)
        done.png = None


def start_worker(critic_config: Any) -> None:
    """Per worker: one OpenCV thread (the pool is the parallelism), the critic's models, and
    a watch on the driver: a driver killed with SIGKILL leaves no worker behind. Ctrl-C in a
    terminal reaches the whole process group: the driver alone decides what it means (finish
    the batch, then stop), so workers ignore it."""
    global _critic, _critic_error
    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    cv2.setNumThreads(1)
    if critic_config is not None:
        from tools.critic import Critic

        try:
            _critic = Critic(critic_config)
        except FacetoryError as exc:  # raised by the first judging, as one clear line:
            _critic_error = exc  # a failing initializer would read as a dead worker


def _exit_with_parent() -> None:
    """Wait for the driver to end, then end this worker (its queues would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def worker_critic() -> Any:
    """The critic of this worker process (built once, by its initializer)."""
    if _critic_error is not None:
        raise _critic_error
    if _critic is None:
        raise FacetoryError("this worker pool was started without a critic")
    return _critic


def judge(pair: tuple[Path, PlanItem]) -> Verdict:
    """This worker's critic's verdict on (image path, plan item)."""
    return worker_critic().judge(*pair)


def embed(path: Path) -> np.ndarray:
    """`tools.stores.embed.embed_file` of the image."""
    from tools.stores.embed import embed_file

    return embed_file(path)


def describe(pair: tuple[Path, Box]) -> np.ndarray:
    """`tools.stores.embed.describe_file` of (image path, face box)."""
    from tools.stores.embed import describe_file

    return describe_file(*pair)
