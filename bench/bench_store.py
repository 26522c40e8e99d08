"""Embedding-store throughput: adds and duplicate checks per second at 100k entries.

    .venv/bin/python bench/bench_store.py [--n 100000] [--dim 320] [--queries 2000]

Fills a fresh `DuplicateStore` (chromadb PersistentClient, cosine HNSW, on disk) with `n`
unit vectors of the image-embedding size in batches of 1,000, printing progress, then times
single adds (one image at a time, as a build accepts them), `check` queries, and a reopen
(what a resumed build pays). Baseline measured in the same run: exact brute-force cosine
search with numpy over the same vectors; the store's answers are compared with it (recall of
the true nearest neighbour, since HNSW is approximate).

The vectors are random directions around 200 cluster centres (so neighbours exist, as they
do between images of one class), not uniform noise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.stores.dedup import IMAGE_RUNNER_UP_WEIGHT, IMAGE_THRESHOLD, DuplicateStore  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
BATCH = 1000


def vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.normal(size=(n, dim)).astype(
        np.float32
    )
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def open_store(path: Path) -> DuplicateStore:
    """The store as builds open it (image threshold and runner-up rule)."""
    return DuplicateStore(path, threshold=IMAGE_THRESHOLD, runner_up_weight=IMAGE_RUNNER_UP_WEIGHT)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=48,
                        help="48: tools.stores.embed.image_embedding")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--singles", type=int, default=1000)
    return parser.parse_args()


def make_queries(bulk: np.ndarray, count: int, dim: int) -> np.ndarray:
    """Half the queries near copies of stored vectors (cosine about 0.95), half new."""
    qrng = np.random.default_rng(1)
    half = count // 2
    copies = bulk[qrng.integers(0, len(bulk), half)] + 0.018 * qrng.normal(size=(half, dim))
    copies = (copies / np.linalg.norm(copies, axis=1, keepdims=True)).astype(np.float32)
    return np.vstack([copies, vectors(count - half, dim, qrng)])


def fill(store: DuplicateStore, bulk: np.ndarray) -> float:
    """Batch adds of every vector, printing progress; adds per second."""
    n = len(bulk)
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        stop = min(start + BATCH, n)
        ids = [f"img{i}" for i in range(start, stop)]
        metas = [{"class": f"c{i % 5}"} for i in range(start, stop)]
        store.add_many(ids, bulk[start:stop], metas)
        if stop % (10 * BATCH) == 0 or stop == n:
            rate = stop / (time.perf_counter() - t0)
            print(f"  added {stop:>7,} / {n:,}  ({rate:,.0f} adds/s)", flush=True)
    return n / (time.perf_counter() - t0)


def time_store(path: Path, bulk: np.ndarray, singles: np.ndarray, queries: np.ndarray
               ) -> tuple[dict, list]:
    """The store's rates: batch and single adds, checks one at a time and in batches, and a
    reopen; with the answers to the queries."""
    store = open_store(path)
    rates = {"batch_adds_per_s": fill(store, bulk)}
    t = time.perf_counter()
    for i, vec in enumerate(singles):
        store.add(f"single{i}", vec, {"class": "c0"})
    rates["single_adds_per_s"] = len(singles) / (time.perf_counter() - t)
    print(f"  {len(singles)} single adds done", flush=True)
    t = time.perf_counter()
    answers = [store.check(q) for q in queries]
    rates["queries_per_s"] = len(queries) / (time.perf_counter() - t)
    t = time.perf_counter()
    for start in range(0, len(queries), 64):
        store.check_many(queries[start : start + 64])
    rates["batched_queries_per_s"] = len(queries) / (time.perf_counter() - t)
    t = time.perf_counter()
    reopened = open_store(path)
    rates["n"] = reopened.count()
    reopened.check(queries[0])
    rates["reopen_s"] = time.perf_counter() - t
    return rates, answers


def brute_force(bulk: np.ndarray, singles: np.ndarray, queries: np.ndarray
                ) -> tuple[list[str], float, float]:
    """The baseline: exact numpy search, its nearest names and rates (batched, single)."""
    everything = np.vstack([bulk, singles])
    names = [f"img{i}" for i in range(len(bulk))] + [f"single{i}" for i in range(len(singles))]
    t = time.perf_counter()
    exact = []
    for start in range(0, len(queries), 256):
        sims = queries[start : start + 256] @ everything.T
        exact += [names[j] for j in sims.argmax(axis=1)]
    brute_rate = len(queries) / (time.perf_counter() - t)
    t = time.perf_counter()
    for q in queries[:200]:
        int(np.argmax(everything @ q))
    return exact, brute_rate, 200 / (time.perf_counter() - t)


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(0)
    data = vectors(args.n + args.singles, args.dim, rng)
    bulk, singles = data[: args.n], data[args.n :]
    queries = make_queries(bulk, args.queries, args.dim)
    half = args.queries // 2
    with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
        rates, answers = time_store(Path(tmp) / "chroma", bulk, singles, queries)
    exact, brute_rate, brute_single_rate = brute_force(bulk, singles, queries)
    recall = float(np.mean([a.match_id == e for a, e in zip(answers, exact, strict=True)]))
    dup_recall = float(np.mean([a.is_duplicate and a.match_id == e
                                for a, e in zip(answers[:half], exact[:half], strict=True)]))
    new_flagged = float(np.mean([a.is_duplicate for a in answers[half:]]))

    print(f"\nstore at {rates['n']:,} entries x {args.dim} dims "
          "(chromadb PersistentClient, cosine HNSW)")
    print(f"  batch adds (1,000 per upsert): {rates['batch_adds_per_s']:9,.0f} /s")
    print(f"  single adds:                   {rates['single_adds_per_s']:9,.0f} /s")
    print(f"  check (nearest + threshold):   {rates['queries_per_s']:9,.0f} /s   "
          f"recall@1 vs exact {recall:.3f}")
    print(f"  check_many (batches of 64):    {rates['batched_queries_per_s']:9,.0f} /s")
    print(f"  near copies flagged as duplicates of the right entry: {dup_recall:.3f}; "
          f"new vectors flagged: {new_flagged:.3f}")
    print(f"  reopen + first check:          {rates['reopen_s']:9.2f} s")
    print("baseline, exact numpy search over the same vectors (in memory, nothing persisted):")
    print(f"  one query at a time:           {brute_single_rate:9,.0f} /s")
    print(f"  batches of 256 queries:        {brute_rate:9,.0f} /s")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_store.json").write_text(json.dumps({
        "n": rates["n"], "dim": args.dim, "batch_adds_per_s": rates["batch_adds_per_s"],
        "single_adds_per_s": rates["single_adds_per_s"], "queries_per_s": rates["queries_per_s"],
        "recall_at_1": recall, "batched_queries_per_s": rates["batched_queries_per_s"],
        "duplicate_recall": dup_recall, "new_flagged": new_flagged,
        "reopen_s": rates["reopen_s"], "brute_force_queries_per_s": brute_single_rate,
        "brute_force_batched_queries_per_s": brute_rate,
    }, indent=1))


if __name__ == "__main__":
    main()
