"""Run (or resume) a build's graph in one process: lock, recover, stream, stop cleanly.

Recovery on every start makes a killed build safe to run again: temp files of a write cut
short are removed, image files that no manifest row names but a work list planned (a batch
killed before it was committed) are removed and will be rendered again identically, recorded
images deleted since are drawn again, and the duplicate store is brought level with the
manifest's accepted images (entries it holds that the manifest has not accepted are
forgotten). Lost checkpoints are rebuilt from the manifest. Human verdicts
queued while no build ran (or while this one was killed) are applied, and a finished build that
a person has since judged, or whose dataset/ was deleted, is reopened at its assessment, so
what they rejected is refilled and the export redone.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from agent.planning.approval import plan_digest
from agent.runtime.context import BuildContext
from agent.runtime.graph import build_graph
from agent.runtime.integrity import (
    check_manifest,
    damaged_accepted,
    leftover_images,
    rebuilt_state,
    redraw_missing,
    state_store_error,
)
from agent.runtime.lock import BuildLock
from agent.runtime.revised_build import revise_started_build
from tools.atomic import remove_orphan_temps

THREAD_ID = "build"  # one build per directory
CONFIG = {"configurable": {"thread_id": THREAD_ID}, "recursion_limit": 10_000_000}

Outcome = Literal["done", "review", "stopped"]


@dataclass
class RunResult:
    outcome: Outcome
    review: dict[str, Any] = field(default_factory=dict)
    """The plan summary the review interrupt carries, when outcome is 'review'."""
    state: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    """When the run began (events logged since are this run's)."""


def recover(ctx: BuildContext) -> list[str]:
    """Check the records, remove half-written and unrecorded files, draw deleted and damaged
    images again, resync the duplicate store (see agent/runtime/integrity.py for what is trusted
    and why). Returns the accepted images drawn again because their file was damaged."""
    paths = ctx.paths
    removed_temps = remove_orphan_temps(paths.root) if paths.root.exists() else 0
    if paths.manifest_db.exists() or paths.images.exists():
        ctx.manifest  # noqa: B018 -- opening it refuses a lost or empty manifest beside images
    if paths.manifest_db.exists():
        check_manifest(ctx)
    removed_orphans = _remove_leftovers(ctx)
    damaged: list[str] = []
    if paths.manifest_db.exists() and paths.plan_yaml.exists():
        damaged = damaged_accepted(ctx)
        redrawn = redraw_missing(ctx, damaged)
        if redrawn:
            ctx.events.emit("redrawn", images=len(redrawn), first=redrawn[0],
                            damaged=damaged[:20])
    if paths.manifest_db.exists():
        from agent.runtime.verdicts import apply_queued, sync_rejections

        apply_queued(ctx, sync_stores=False)
        sync_rejections(ctx)
    forgotten = _level_stores(ctx)
    if removed_temps or removed_orphans or forgotten:
        ctx.events.emit("recovered", temps=removed_temps, orphans=removed_orphans,
                        forgotten_embeddings=forgotten)
    return damaged


def _remove_leftovers(ctx: BuildContext) -> int:
    """Remove the image files no record names that a work list planned; how many."""
    paths = ctx.paths
    if not (paths.images.exists() and paths.manifest_db.exists()):
        return 0
    remove, keep = leftover_images(ctx)
    for image in remove:
        image.unlink()
    if keep:
        ctx.events.emit("unknown_files_kept", files=[str(p) for p in keep[:20]])
    return len(remove)


def _level_stores(ctx: BuildContext) -> int:
    """Bring the duplicate stores level with the manifest's accepted images; entries forgotten."""
    paths = ctx.paths
    if not ((paths.manifest_db.exists() or paths.chroma.exists()) and paths.spec_yaml.exists()):
        return 0
    forgotten = 0
    accepted = ctx.manifest.accepted_embeddings()  # a lost manifest: none (store emptied)
    if accepted or paths.chroma.exists():
        forgotten = ctx.store().level(list(accepted), list(accepted.values()))
    faces = ctx.manifest.accepted_embeddings("descriptor")
    if faces or (paths.chroma.exists() and ctx.spec.identities is not None):
        who = ctx.manifest.get(faces)
        forgotten += ctx.identity_store().level(
            list(faces), list(faces.values()), [{"identity": who[i].identity} for i in faces]
        )
    return forgotten


def run_graph(
    ctx: BuildContext,
    *,
    resume: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    keep_pool: bool = False,
) -> RunResult:
    """Start, resume or continue the build until it ends, pauses for review, or is stopped.

    `resume` answers a pending review interrupt ({"action": "approve"} etc.; callers go through
    `agent.runtime.review_answer.answer_review`). `request`: what a new build's parse node
    applies to the words (`BuildState.request`). A stop request is honoured at the next batch
    boundary, after the batch is committed and checkpointed. `keep_pool`: the worker pool
    stays up for the caller's next run (which then closes the context); nothing else of this
    run outlives it.
    """
    began = time.time()
    with BuildLock(ctx.paths.root):
        damaged = recover(ctx)
        conn = sqlite3.connect(ctx.paths.state_db, check_same_thread=False)
        try:
            graph = build_graph(SqliteSaver(conn))
            start, snapshot = _start(ctx, graph, damaged, resume, request)
            if start is _DONE:
                return RunResult("done", started=began, state=dict(snapshot.values))
            # a run that will generate starts the pool now: its models load meanwhile. Not a
            # run that stops at the review (the pool would end with it, 2 CPU-s a worker)
            approving = (resume or {}).get("action") == "approve"
            if (approving or snapshot.values.get("approved")) and ctx.paths.spec_yaml.exists():
                ctx.start_workers()
            return _stream(ctx, graph, start, began, on_update, stop_requested)
        finally:
            conn.close()
            ctx.close(keep_pool=keep_pool)  # no process outlives the run unless kept


#: `_start`'s answer for a finished build that stays finished.
_DONE = object()


def _start(ctx: BuildContext, graph: Any, damaged: list[str], resume: dict[str, Any] | None,
           request: dict[str, Any] | None) -> tuple[Any, Any]:
    """What to stream the graph from (its input, a resume Command, None to continue, or
    `_DONE`) and the snapshot it was decided on."""
    snapshot = _snapshot(ctx, graph)
    if snapshot.values.get("approved") and _manifest_blank(ctx):
        # the checkpoints of a build whose manifest was lost (and its images moved away, as
        # the error advises): drawn again from the plan, not continued from ids no record
        # names (a KeyError) or called done with nothing made
        graph.checkpointer.delete_thread(THREAD_ID)
        snapshot = graph.get_state(CONFIG)
        ctx.events.emit("state_dropped", reason="the manifest holds no records")
    rebuilt = None
    if not snapshot.values and not snapshot.next:
        rebuilt = rebuilt_state(ctx)  # checkpoints lost: the manifest knows
    if rebuilt is not None or snapshot.values.get("approved"):
        snapshot = _revise(ctx, graph, snapshot, rebuilt)
        if rebuilt is not None:
            return None, snapshot
    if not snapshot.values and not snapshot.next:
        return {"request": request} if request else {}, snapshot
    if _pending_interrupt(snapshot) is not None:
        return Command(resume=resume or {"action": "recheck"}), snapshot
    if not snapshot.next and not snapshot.tasks:
        reason = _reopen_reason(ctx, damaged)
        if reason is None:
            return _DONE, snapshot
        # assess again: refill what people rejected, export again
        graph.update_state(CONFIG, {"stop_reason": None}, as_node="variants")
        ctx.events.emit("reopened", reason=reason)
    # continue from the last checkpoint. No `next` but a task: a node finished and its writes
    # were saved, but the process died before the step's own checkpoint; streaming applies
    # those writes and goes on (a SIGKILL there made the next run call an unfinished build done)
    return None, snapshot


def _snapshot(ctx: BuildContext, graph: Any) -> Any:
    try:
        return graph.get_state(CONFIG)
    except sqlite3.DatabaseError as exc:
        raise state_store_error(ctx.paths, exc) from None


def _revise(ctx: BuildContext, graph: Any, snapshot: Any, rebuilt: dict[str, Any] | None) -> Any:
    """The plan may have been revised since the build started (review + approve after a
    partial run): drop what no longer fits and continue from `assess`. Lost checkpoints
    (`rebuilt` from the manifest) are written back here."""
    digest = plan_digest(ctx.paths.root)
    values = rebuilt if rebuilt is not None else dict(snapshot.values)
    update = revise_started_build(ctx, values, digest)
    if rebuilt is not None:
        rebuilt = {**rebuilt, **(update or {}), "plan_sha256": digest}
        graph.update_state(CONFIG, rebuilt, as_node="dedup")  # next: assess
        ctx.events.emit("state_rebuilt", round=rebuilt["round"], cursor=rebuilt["cursor"])
    elif update is not None:
        graph.update_state(CONFIG, update, as_node="dedup")
    else:
        return snapshot
    return graph.get_state(CONFIG)


def _stream(ctx: BuildContext, graph: Any, start: Any, began: float,
            on_update: Callable[[dict[str, Any]], None] | None,
            stop_requested: Callable[[], bool]) -> RunResult:
    """Stream the graph from `start` until it ends, pauses for review, or is stopped."""
    timing: Counter[str] = Counter()
    last = time.perf_counter()
    try:
        # "sync": each step's checkpoint is saved before the next step starts. LangGraph's
        # default ("async") saves them behind the build, several steps may be in flight, and a
        # SIGKILL then resumed from before a batch whose images the duplicate store already
        # held: they were rejected as duplicates of themselves (tests/.../test_durability.py)
        for update in graph.stream(start, CONFIG, context=ctx, stream_mode="updates",
                                   durability="sync"):
            now = time.perf_counter()
            for node in update:
                timing[node] += now - last
            last = now
            if not _BATCH_NODES.issuperset(update):
                _log_timing(ctx, timing)  # before the report node reads the log
            if "__interrupt__" in update:
                return RunResult("review", started=began, review=update["__interrupt__"][0].value,
                                 state=dict(graph.get_state(CONFIG).values))
            if on_update:
                on_update(update)
            if "assess" in update and stop_requested():
                ctx.events.emit("stopped", reason="interrupted by the user")
                return RunResult("stopped", started=began,
                                 state=dict(graph.get_state(CONFIG).values))
        return RunResult("done", started=began, state=dict(graph.get_state(CONFIG).values))
    finally:
        _log_timing(ctx, timing)


def _reopen_reason(ctx: BuildContext, damaged: list[str]) -> str | None:
    """Why a finished build runs its last steps again, or None: it stays done."""
    if ctx.manifest.human_verdicts("applied"):
        return "human verdicts since the last export"
    if damaged:
        # the export holds hard links to the damaged files, not to those drawn again
        return f"{len(damaged)} damaged accepted image(s) drawn again, e.g. {damaged[0]}"
    if not (ctx.paths.dataset / "export.json").is_file():
        # a deleted dataset/ was never rebuilt: `run` said done, `train` said run first
        return "the exported dataset is missing"
    return None


def _manifest_blank(ctx: BuildContext) -> bool:
    """No image record and no work list: nothing of the build is on record."""
    return ctx.manifest.attempts() == 0 and not ctx.manifest.rounds()


#: Nodes that run once per batch: their time is logged with the batch's `assess`, so the log
#: gets one timing line a batch, not four.
_BATCH_NODES = frozenset({"generate", "critique", "dedup"})


def _log_timing(ctx: BuildContext, timing: Counter[str]) -> None:
    """Append the stage seconds not yet logged to events.jsonl, and forget them.

    Logged as the build goes, not once when the process ends: the report node reads the log
    while the build runs (a build timed only at the end showed 0.4 s, the planning run, for a
    519 s build), and a killed run keeps what it had logged.
    """
    stages = {k: round(v, 3) for k, v in timing.items() if k != "__interrupt__" and v > 0}
    timing.clear()
    if stages:
        ctx.events.emit("timing", stages=stages)


def graph_state(ctx: BuildContext) -> dict[str, Any]:
    """The last checkpointed state (read-only; needs no lock)."""
    if not ctx.paths.state_db.exists():
        return {}
    conn = sqlite3.connect(ctx.paths.state_db, check_same_thread=False)
    try:
        return dict(build_graph(SqliteSaver(conn)).get_state(CONFIG).values)
    except sqlite3.DatabaseError as exc:
        raise state_store_error(ctx.paths, exc) from None
    finally:
        conn.close()


def pending_review(ctx: BuildContext) -> dict[str, Any] | None:
    """What the review pause the build waits at carries (None: it waits at none; read-only)."""
    if not ctx.paths.state_db.exists():
        return None
    conn = sqlite3.connect(ctx.paths.state_db, check_same_thread=False)
    try:
        return _pending_interrupt(_snapshot(ctx, build_graph(SqliteSaver(conn))))
    finally:
        conn.close()


def _pending_interrupt(snapshot: Any) -> Any:
    for task in snapshot.tasks:
        for intr in task.interrupts:
            return intr.value
    return None
