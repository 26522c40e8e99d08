"""The procedural renderer's batches drawn and judged on an executor, one batch ahead.

At one worker a batch is drawn by the driver, then judged, then de-duplicated, one stage
after the other. With a pool the whole per-image chain (`tools.execution.image_tasks`) runs
there, and while the driver records batch k (the manifest, the duplicate store, the graph's
checkpoint) the pool already draws and judges batch k+1: `generate` starts the next batch's
jobs before it waits for its own.

What keeps the output exact:
- a job is a pure function of its key (`RenderJob.key`: the recipe, the file it writes, what
  it is judged against); a batch takes a started job only if its key is among the batch's
  own, and starts the rest. A started job the batch does not take is waited out before
  anything else may write its file, then dropped;
- results are taken in the batch's order and only the driver writes the manifest, after the
  whole batch is in: a worker death runs the batch's jobs again in a fresh pool, once
  (`tools.execution.pool.PoolPending`); a killed build redraws the batch on resume, where its
  files were not recorded yet (`agent.runtime.integrity.leftover_images` removes what a
  killed run drew ahead);
- the driver draws nothing itself: it waits for the pool (a third process on two cores
  would load a third critic on the first batch's critical path);
- the verdicts, embeddings and descriptors come from the same functions the driver calls
  at one worker, so the critique and dedup stages take them as their input
  (`tools.execution.batch.BatchResult`) instead of computing them again (and compute
  whatever is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tools.atomic import remove_temps_of
from tools.execution.base import Pending
from tools.execution.image_tasks import Prepared, RenderJob, land
from tools.execution.images import ImageWorkers


class RenderAhead:
    """Render jobs on `workers` (any executor), started ahead of the batch that takes them."""

    def __init__(self, workers: ImageWorkers) -> None:
        self._workers = workers
        self._started: list[tuple[list[RenderJob], Pending[Prepared]]] = []
        self._unclaimed: set[Path] = set()  # drawn, and not taken by the batch that took them
        self.reruns = 0
        """Groups of jobs run again because a worker died (each at most once)."""

    def start(self, jobs: Sequence[RenderJob]) -> None:
        """Start the jobs not started yet (the next batch's, while this one is recorded).

        A started group with a job that would write one of these files with other contents
        (a speculation that turned out wrong) is waited out and dropped first, so no two jobs
        race for a file.
        """
        keys, paths = {job.key for job in jobs}, {job.path for job in jobs}
        keep = []
        for group, pending in self._started:
            if any(job.path in paths and job.key not in keys for job in group):
                pending.wait()
                self._unclaimed.update(job.path for job in group)
            else:
                keep.append((group, pending))
        self._started = keep
        started = {job.key for group, _ in self._started for job in group}
        new = [job for job in jobs if job.key not in started]
        if new:
            self._started.append((new, self._workers.prepare_async(new)))

    def take(self, jobs: Sequence[RenderJob]) -> list[Prepared]:
        """Every job's result, in order: those started ahead, the rest started now."""
        self.start(jobs)
        wanted = {job.key for job in jobs}
        results: dict[tuple[str, str], Prepared] = {}
        keep = []
        for group, pending in self._started:
            if any(job.key in wanted for job in group):
                done = pending.result()
                for job, prepared in zip(group, done, strict=True):
                    if job.key in wanted:
                        land(job, prepared)  # drawn by a Ray actor: written here
                results |= dict(zip((j.key for j in group), done, strict=True))
                if pending.retried:  # a worker died writing: its temp files are ours
                    self.reruns += 1
                    for job in group:
                        remove_temps_of(job.path)
                self._unclaimed.update(job.path for job in group if job.key not in wanted)
            else:
                keep.append((group, pending))
        self._started = keep
        return [results[job.key] for job in jobs]

    def close(self, recorded: Callable[[Path], bool]) -> None:
        """Wait for whatever was started ahead and delete the files of it that no record
        names (a stopped build drew them for a batch it will not record in this run)."""
        for group, pending in self._started:
            pending.wait()
            self._unclaimed.update(job.path for job in group)
        for path in sorted(self._unclaimed):
            if path.is_file() and not recorded(path):
                path.unlink()
        self._started, self._unclaimed = [], set()
