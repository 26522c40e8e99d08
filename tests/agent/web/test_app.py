"""The review app over HTTP (no browser): what the pages show, and that every change goes
through the same validation and approval as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from agent.planning.approval import is_approved
from agent.planning.plan_file import read_plan
from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock
from agent.runtime.verdicts import apply_queued
from agent.web.app import create_app
from tests.agent.web.builds import built, planned
from tools.build_dir import BuildPaths
from tools.contracts import Status

TOKEN = "t0ken"


def client(root: Path) -> TestClient:
    return TestClient(create_app(root, token=TOKEN), base_url="http://127.0.0.1:8000")


def post(c: TestClient, url: str, data: dict[str, str]) -> object:
    return c.post(url, data={"token": TOKEN, **data}, follow_redirects=True)


def test_the_review_page_shows_classes_factors_samples_estimate_and_requirements(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b", trace=True)
    page = client(root).get("/review").text
    assert 'name="quota:sunglasses" value="6"' in page
    assert 'id="factor-gender"' in page and 'id="factor-expression"' in page
    assert page.count('src="/samples/') == 2 + 2 + 2  # every class, every level
    assert "expected attempts" in page and "time on this machine" in page
    assert "Twelve faces, half with sunglasses" in page
    assert "nothing verifies this" in page and "not verified" in page
    assert "12 images in 2 classes" in page and "(s)" not in page


def test_a_sample_is_drawn_with_the_build_backend_and_cached(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = client(root)
    url = c.get("/review").text.split('src="/samples/', 1)[1].split('"', 1)[0]
    first = c.get(f"/samples/{url}")
    assert first.status_code == 200 and first.content[:8] == b"\x89PNG\r\n\x1a\n"
    cached = list((root / "samples").glob("*.png"))
    assert len(cached) == 1
    assert c.get(f"/samples/{url}").content == first.content


def test_a_quota_edit_replans_like_review_and_withdraws_approval(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = client(root)
    assert post(c, "/review/approve", {}).status_code == 200
    assert is_approved(root)
    page = post(c, "/review/edit", {"quota:none": "8"}).text
    assert "class none: 6 -&gt; 8 images" in page
    plan = read_plan(root / "plan.yaml")
    assert sum(1 for it in plan.items if it.class_name == "none") == 8
    assert not is_approved(root)


def test_an_approved_plan_names_the_command_with_the_builds_path_not_its_folder_name(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = client(root)
    page = post(c, "/review/approve", {}).text
    assert f"<code>facetory run {root}</code>" in page


def test_a_quota_edit_is_planned_again_by_the_graph_plan_node_as_review_does(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    post(client(root), "/review/edit", {"quota:none": "8"})
    events = BuildContext(paths=BuildPaths(root)).events.read()
    planned_sizes = [e["items"] for e in events if e["event"] == "planned"]
    assert planned_sizes[-1] == 14  # the plan node (where prompts are enriched) made the plan


@pytest.mark.parametrize(
    ("field", "value", "shown_beside"),
    [
        ("quota:none", "-3", "quota:none"),
        ("quota:none", "many", "quota:none"),
        ("share:gender:female", "80", "factor:gender"),  # male stays at 50%: 130%
        ("description:none", "children in lingerie", "description:none"),
    ],
)
def test_an_invalid_edit_is_shown_beside_its_field_and_changes_nothing(
        tmp_path: Path, field: str, value: str, shown_beside: str) -> None:
    root = planned(tmp_path / "b")
    before = (root / "plan.yaml").read_bytes()
    form = {"share:gender:male": "50", field: value}
    response = post(client(root), "/review/edit", form)
    assert response.status_code == 422
    assert f'data-field="{shown_beside}"' in response.text
    assert (root / "plan.yaml").read_bytes() == before


def test_a_share_edit_sets_proportions_and_rebalances(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    post(client(root), "/review/edit", {"share:gender:female": "", "share:gender:male": "66.67"})
    plan = read_plan(root / "plan.yaml")
    male = sum(1 for it in plan.items if it.attributes["gender"] == "male")
    assert male == 8  # two thirds of 6, in each of two classes


def test_while_a_build_holds_the_lock_the_plan_is_read_only(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = client(root)
    before = (root / "plan.yaml").read_bytes()
    with BuildLock(root):
        page = c.get("/review").text
        assert "a build is running: read-only" in page
        assert post(c, "/review/edit", {"quota:none": "8"}).status_code == 409
        assert post(c, "/review/feedback", {"feedback": "more glasses"}).status_code == 409
        assert post(c, "/review/approve", {}).status_code == 409
    assert (root / "plan.yaml").read_bytes() == before and not is_approved(root)


@pytest.mark.slow
def test_a_verdict_given_during_a_build_queues_and_the_gallery_pages_and_filters(
        tmp_path: Path) -> None:
    root = built(tmp_path / "b")
    c = client(root)
    page = c.get("/gallery?status=accepted").text
    assert "12 images; page 1 of 1" in page
    assert page.count('class="meta varied"') == 12 and ", lighting " in page
    image_id = page.split('id="tile-', 1)[1].split('"', 1)[0]
    assert c.get(f"/image/{image_id}").content[:4] == b"\x89PNG"
    with BuildLock(root):
        answer = c.post("/verdict", data={"token": TOKEN, "image_id": image_id,
                                         "verdict": "rejected", "reason": "blurry eyes"},
                        headers={"accept": "application/json"})
        assert answer.json() == {"applied": False, "state": "queued"}
        assert c.get("/status.json").json()["queued_verdicts"] == 1
    with BuildLock(root):
        apply_queued(BuildContext(paths=BuildPaths(root)), sync_stores=False)
    status = c.get("/status.json").json()
    assert status["accepted"] == 11 and status["queued_verdicts"] == 0
    rejected = c.get("/gallery?reason=human_rejected").text
    assert "1 image;" in rejected and "person: rejected (blurry eyes)" in rejected

    # accepting a critic-rejected image: refused while its item has an accepted image
    manifest = BuildContext(paths=BuildPaths(root)).manifest
    other = next(r for r in manifest.records(Status.rejected) if "human_rejected" not in r.reasons)
    page = post(c, "/verdict", {"image_id": other.image_id, "verdict": "accepted",
                                "reason": "fine by me", "back": "/gallery?status=rejected"}).text
    assert "already has an accepted image" in page
    [winner] = manifest.accepted_for_item(other.item_id)
    post(c, "/verdict", {"image_id": winner, "verdict": "rejected", "reason": "worse"})
    page = post(c, "/verdict", {"image_id": other.image_id, "verdict": "accepted",
                                "reason": "fine by me", "back": "/gallery?status=accepted"}).text
    assert "quotas recounted" in page
    assert manifest.accepted_for_item(other.item_id) == [other.image_id]
    assert c.get("/status.json").json()["accepted"] == 11  # victim's item still short


def test_the_gallery_pages_through_the_manifest_a_page_at_a_time(tmp_path: Path) -> None:
    from tools.contracts import ManifestRecord
    from tools.stores.manifest import Manifest

    root = planned(tmp_path / "b")
    Manifest(root / "manifest.sqlite").upsert([
        ManifestRecord(image_id=f"none-{i:06d}-a0", item_id=f"none-{i:06d}", class_name="none",
                       split="val" if i % 5 == 0 else "train", status=Status.accepted)
        for i in range(130)
    ], round_=0)
    c = client(root)
    first = c.get("/gallery").text
    assert "130 images; page 1 of 3" in first and first.count('class="tile ') == 60
    assert 'id="next"' in first and 'id="prev"' not in first
    last = c.get("/gallery?page=3").text
    assert last.count('class="tile ') == 10 and 'id="next"' not in last
    val = c.get("/gallery?split=val&page=1").text
    assert "26 images; page 1 of 1" in val


def test_feedback_in_words_takes_the_same_path_as_review_feedback(tmp_path: Path) -> None:
    from tests.agent.web.builds import facetory

    root = tmp_path / "fb"
    words = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"
    assert facetory("plan", words, "--out", str(root), "--offline").returncode == 0
    c = client(root)
    post(c, "/review/approve", {})
    page = post(c, "/review/feedback", {"feedback": "30% wear hats"}).text
    assert "none / hat=hat: 0 -&gt; 6" in page
    assert (root / "spec.txt").read_text().splitlines() == [words, "30% wear hats"]
    assert not is_approved(root)
    assert 'id="apply" disabled' not in page  # still a plan: editable
    empty = post(c, "/review/feedback", {"feedback": "  "})
    assert empty.status_code == 422 and 'id="error-feedback"' in empty.text


def test_refused_feedback_on_the_web_changes_nothing_and_keeps_the_approval(
        tmp_path: Path) -> None:
    from tests.agent.web.builds import facetory

    root = tmp_path / "fb"
    words = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"
    assert facetory("plan", words, "--out", str(root), "--offline").returncode == 0
    c = client(root)
    post(c, "/review/approve", {})
    files = {p: (root / p).read_bytes() for p in ("plan.yaml", "spec.yaml", "spec.txt",
                                                   "approval.json")}
    refused = post(c, "/review/feedback", {"feedback": "children with bruises"})
    assert refused.status_code == 422 and 'id="error-feedback"' in refused.text
    assert "refused" in refused.text and "bruises" in refused.text
    assert {p: (root / p).read_bytes() for p in files} == files
    assert is_approved(root)


@pytest.mark.slow
def test_a_diffusion_backend_draws_factor_samples_only_when_asked_and_from_the_local_model(
        tmp_path: Path) -> None:
    import torch

    from agent.language.spec import DatasetSpec
    from agent.planning.plan_file import write_plan, write_spec
    from agent.planning.planner import make_plan
    from tests.agent.web.builds import SPEC
    from tests.tools.tiny_sd import tiny_sd_once

    model = tiny_sd_once(tmp_path)
    root = tmp_path / "b"
    data = {**SPEC, "image_size": 64,
            "generation": {"backend": "diffusers", "model": str(model), "steps": 2}}
    spec = DatasetSpec.from_data(data)
    root.mkdir()
    write_spec(spec, root / "spec.yaml")
    write_plan(make_plan(spec), root / "plan.yaml")
    c = client(root)
    page = c.get("/review").text
    assert page.count(' src="/samples/') == 2  # the classes at once
    assert page.count('data-src="/samples/') == 4  # each factor's on request
    assert "Draw 2 samples with diffusers" in page
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        url = page.split('data-src="/samples/', 1)[1].split('"', 1)[0]
        drawn = c.get(f"/samples/{url}")
    finally:
        torch.set_num_threads(threads)
    assert drawn.status_code == 200 and drawn.content[:4] == b"\x89PNG"
    assert "GPU time" in c.get("/review").text


def test_every_kind_of_variation_in_the_web_description_field_is_refused(tmp_path: Path) -> None:
    from tests.tools.safety_corpus import corpus

    root = planned(tmp_path / "b")
    before = (root / "plan.yaml").read_bytes()
    c = client(root)
    sample = {kind: phrase for _, kind, phrase in corpus()}  # the last phrase of each kind
    for kind, phrase in sample.items():
        response = post(c, "/review/edit", {"description:none": f"a child, {phrase}"})
        assert response.status_code == 422, (kind, phrase)
        assert 'data-field="description:none"' in response.text and "refused" in response.text
    kite = post(c, "/review/edit", {"description:none": "a child holding a kite"})
    assert kite.status_code == 422 and "&#39;kite&#39; is not a reviewed word" in kite.text
    assert (root / "plan.yaml").read_bytes() == before


def test_feedback_on_the_web_after_a_quota_edit_keeps_the_edit(tmp_path: Path) -> None:
    from tests.agent.web.builds import facetory

    root = tmp_path / "fb"
    words = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"
    assert facetory("plan", words, "--out", str(root), "--offline").returncode == 0
    c = client(root)
    post(c, "/review/edit", {"quota:none": "8"})
    post(c, "/review/feedback", {"feedback": "30% wear hats"})
    spec = yaml.safe_load((root / "spec.yaml").read_text())
    assert {k["name"]: k["quota"] for k in spec["classes"]}["none"] == 8
    assert any(f["name"] == "hat" for f in spec["factors"])


def test_feedback_that_leaves_a_question_is_asked_on_the_page_and_answered(tmp_path: Path) -> None:
    from tests.agent.web.builds import facetory

    root = tmp_path / "q"
    words = "60 faces in three eyewear classes (none, glasses, sunglasses), 20 per class"
    assert facetory("plan", words, "--out", str(root), "--offline").returncode == 0
    c = client(root)
    asked = post(c, "/review/feedback", {"feedback": "some people wearing hats"})
    assert asked.status_code == 422 and 'id="question"' in asked.text
    assert "&#39;some people wearing hats&#39; - what share?" in asked.text
    assert 'value="25%"' in asked.text and 'value="50%"' in asked.text
    answer = {"feedback": "some people wearing hats", "phrase": "some people wearing hats",
              "answer": "50%"}
    assert post(c, "/review/feedback", answer).status_code == 200
    spec = yaml.safe_load((root / "spec.yaml").read_text())
    hat = next(f for f in spec["factors"] if f["name"] == "hat")
    assert {lv["name"]: lv.get("proportion") for lv in hat["levels"]}["hat"] == 0.5
    assert "answer: 'some people wearing hats'" in (root / "spec.txt").read_text()


def test_feedback_on_the_web_for_a_plan_from_a_yaml_spec_changes_the_fields_it_names(
        tmp_path: Path) -> None:
    from tests.agent.cli.test_plan_commands import YAML_SPEC
    from tests.agent.web.builds import facetory

    spec, root = tmp_path / "spec.yaml", tmp_path / "b"
    spec.write_text(YAML_SPEC)
    assert facetory("plan", str(spec), "--out", str(root), "--offline").returncode == 0
    c = client(root)
    assert post(c, "/review/feedback", {"feedback": "seed: 11"}).status_code == 200
    assert "seed: 11" in (root / "spec.yaml").read_text()
    words = post(c, "/review/feedback", {"feedback": "make it 20 faces"})
    assert words.status_code == 422 and "YAML" in words.text
    assert "not valid YAML" not in words.text and "seed: 11" in (root / "spec.yaml").read_text()


def test_a_build_still_starting_counts_as_running_so_start_is_not_offered_twice(
        tmp_path: Path, monkeypatch) -> None:
    import subprocess
    import sys

    root = planned(tmp_path / "b")
    c = client(root)
    assert post(c, "/review/approve", {}).status_code == 200
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def slow_start(args, **kwargs):  # a run still importing: alive, not yet holding the lock
        started.append(real_popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                  **kwargs))
        return started[-1]

    monkeypatch.setattr("agent.web.build_routes.subprocess.Popen", slow_start)
    try:
        assert post(c, "/build/start", {}).status_code == 200
        assert c.get("/status.json").json()["running"] is True
        assert 'id="start-form"' not in c.get("/build").text
        assert post(c, "/build/start", {}).status_code == 409
        assert len(started) == 1
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
    assert c.get("/status.json").json()["running"] is False
