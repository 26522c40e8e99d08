"""The web review's costs: first page load of a 10,000-image plan, gallery pages through
10,000 images, and samples for every cell of the quickstart plan.

Goals (issue 17): the review page under 1 s for 10,000 images; the gallery never loads all
images (one page of 60 is parsed, whichever page); every quickstart sample drawn in under 5 s
on the procedural backend. Each figure is the median of `--repeats` cold runs (a fresh app, a
fresh sample cache) over HTTP through Starlette's test client, on this machine.

    .venv/bin/python bench/bench_web.py [--images 10000] [--repeats 3]

Prints the figures and writes them to bench/out/bench_web.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from agent.language.parse import load_spec_source
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from agent.web.app import PAGE, create_app
from tools.atomic import write_text
from tools.contracts import ManifestRecord, Status
from tools.stores.manifest import Manifest

OUT = Path(__file__).resolve().parent / "out"
QUICKSTART = Path(__file__).resolve().parent.parent / "specs" / "quickstart.txt"
BASE = "http://127.0.0.1:8000"
REASONS = ["blurry", "face_cut_off", "attribute_mismatch:eyewear", "no_face"]


def planned(root: Path, images: int) -> int:
    """The quickstart's factors, scaled to `images`; returns the planned count."""
    _, spec = load_spec_source(str(QUICKSTART), offline=True)
    quotas = [images // len(spec.classes)] * len(spec.classes)
    quotas[0] += images - sum(quotas)
    spec = spec.model_copy(update={"classes": [c.model_copy(update={"quota": q})
                                               for c, q in zip(spec.classes, quotas, strict=True)]})
    plan = make_plan(spec)
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / "spec.txt", QUICKSTART.read_text())
    write_spec(spec, root / "spec.yaml")
    write_plan(plan, root / "plan.yaml")
    return len(plan.items)


def fill_manifest(root: Path) -> int:
    """One attempt per plan item, a tenth of them rejected (tiny PNGs are never read here)."""
    from agent.planning.plan_file import read_plan

    plan = read_plan(root / "plan.yaml")
    records = []
    for i, item in enumerate(plan.items):
        bad = i % 10 == 0
        records.append(ManifestRecord(
            image_id=f"{item.id}-a0", item_id=item.id, class_name=item.class_name,
            attributes=item.attributes, split=item.split, seed=item.seed,
            status=Status.rejected if bad else Status.accepted,
            reasons=[REASONS[i % len(REASONS)]] if bad else [],
            path=f"images/{item.id}-a0.png"))
    Manifest(root / "manifest.sqlite").upsert(records, round_=0)
    return len(records)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def get(client: TestClient, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")


def browser_load(root: Path) -> float | None:
    """Seconds from navigation to the load event of /review in headless chromium (samples in
    view included), over a real socket; None when chromium or playwright is missing."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    import threading

    import uvicorn

    from agent.web.server import bind

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(root, token="t"),
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/review", wait_until="load")
            seconds = page.evaluate(
                "performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench_web_") as tmp:
        big = Path(tmp) / "big"
        figures["plan_images"] = planned(big, args.images)

        def cold(url: str) -> float:
            return timed(lambda: get(TestClient(create_app(big, token="t"), base_url=BASE), url))

        figures["review_first_load_s"] = statistics.median(
            cold("/review") for _ in range(args.repeats))
        shutil.rmtree(big / "samples", ignore_errors=True)
        figures["review_browser_load_s"] = browser_load(big)
        figures["gallery_images"] = fill_manifest(big)
        last = -(-int(figures["gallery_images"]) // PAGE)
        for name, url in (("first", "/gallery"), ("last", f"/gallery?page={last}"),
                          ("filtered", "/gallery?status=rejected&reason=blurry&split=train"),
                          ("cell", "/gallery?factor=skin_tone&level=monk_3&page=2")):
            figures[f"gallery_{name}_page_s"] = statistics.median(
                cold(url) for _ in range(args.repeats))
        figures["gallery_page_size"] = PAGE
        figures["build_page_s"] = statistics.median(cold("/build") for _ in range(args.repeats))

        quick = Path(tmp) / "quick"
        planned(quick, 300)
        sample_times, counts = [], []
        for _ in range(args.repeats):
            shutil.rmtree(quick / "samples", ignore_errors=True)
            client = TestClient(create_app(quick, token="t"), base_url=BASE)
            page = client.get("/review").text
            urls = [u.split('"', 1)[0] for u in page.split('src="/samples/')[1:]]
            counts.append(len(urls))
            start = time.perf_counter()
            for url in urls:
                get(client, f"/samples/{url}")
            sample_times.append(time.perf_counter() - start)
        figures["quickstart_samples"] = counts[0]
        figures["quickstart_samples_s"] = statistics.median(sample_times)

    print(f"review page, first load, {figures['plan_images']:,}-image plan: "
          f"{figures['review_first_load_s'] * 1000:.0f} ms server side (goal < 1000 ms)")
    if figures["review_browser_load_s"] is not None:
        print(f"  in chromium, navigation to load event, samples in view drawn cold: "
              f"{figures['review_browser_load_s'] * 1000:.0f} ms")
    print(f"gallery over {figures['gallery_images']:,} images, {PAGE} a page: first "
          f"{figures['gallery_first_page_s'] * 1000:.0f} ms, last "
          f"{figures['gallery_last_page_s'] * 1000:.0f} ms, filtered "
          f"{figures['gallery_filtered_page_s'] * 1000:.0f} ms, by cell "
          f"{figures['gallery_cell_page_s'] * 1000:.0f} ms")
    print(f"build page (live progress) over {figures['gallery_images']:,} images: "
          f"{figures['build_page_s'] * 1000:.0f} ms")
    print(f"samples for every cell of the quickstart plan: {figures['quickstart_samples']} in "
          f"{figures['quickstart_samples_s']:.2f} s, procedural (goal < 5 s)")
    OUT.mkdir(exist_ok=True)
    write_text(OUT / "bench_web.json", json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
