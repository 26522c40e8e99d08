"""The optional models are reached by real builds from spec.yaml and from the command line:
the vision-language critic (a local fake OpenAI-compatible server), CLIP (a tiny random-weight
open_clip model made here), IP-Adapter and img2img variants (a tiny random diffusers pipeline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import app
from agent.planning.plan_file import read_spec
from agent.runtime.context import BuildContext, Options, Services
from agent.runtime.runner import run_graph
from tests.agent.fakes import FakeCritic, fake_embedder
from tests.agent.openai_stub import OpenAIStub
from tools.build_dir import BuildPaths
from tools.contracts import Status
from tools.generate.provenance import read_provenance

runner = CliRunner()


def facetory(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def reasons(out: Path) -> set[str]:
    ctx = BuildContext(paths=BuildPaths(out))
    return {reason for r in ctx.manifest.records() for reason in r.reasons}


# --- the vision-language critic --------------------------------------------------------------

HAIR = """\
name: vlm
classes: [{name: none, quota: 4, attributes: {eyewear: none}}]
factors: [{name: hair_color, balanced: true, levels: [{name: black}, {name: blond}]}]
budget: {batch_size: 4, max_attempts_factor: 1}
image_size: 128
seed: 5
"""


def sees_black_hair(model: str, messages: list[dict]) -> str:
    """A vision model that sees black hair in every picture, and whatever else it is asked
    about (eyewear, where faces are too small for the offline check) as requested."""
    parts = next(m["content"] for m in messages if isinstance(m["content"], list))
    question = next(p["text"] for p in parts if p["type"] == "text")
    assert any(p["type"] == "image_url" for p in parts)
    seen = {"hair_color": "black"}
    return json.dumps({"faces": 1, "attributes": [
        {"factor": factor, "observed": seen.get(factor, requested),
         "matches": seen.get(factor, requested) == requested, "confidence": 0.9}
        for factor, requested in re.findall(r"^- (\w+): (\w+)", question, re.M)]})


def test_the_vision_critic_from_the_command_line_judges_every_image(tmp_path: Path) -> None:
    out = tmp_path / "b"
    with OpenAIStub(sees_black_hair) as stub:
        built = facetory("build", write(tmp_path, HAIR), "--out", out, "--yes", "--offline",
                         "--no-train", "--vlm-url", stub.base_url, "--vlm-model", "fake-vision")
        assert built.exit_code == 0, built.output
    vlm = read_spec(out / "spec.yaml").quality.vlm
    assert (vlm.base_url, vlm.model) == (stub.base_url, "fake-vision")  # recorded
    asked = [r for r in stub.requests if r["model"] == "fake-vision"]
    assert len(asked) >= 4  # every image with a face was shown to it
    ctx = BuildContext(paths=BuildPaths(out))
    by_hair = {r.attributes["hair_color"]: r for r in ctx.manifest.records()}
    assert "attribute_mismatch:hair_color" in by_hair["blond"].reasons


def test_a_vision_critic_in_spec_yaml_reaches_the_critic(tmp_path: Path) -> None:
    text = HAIR + "quality: {vlm: {base_url: 'http://127.0.0.1:9/v1', model: m}}\n"
    ctx = BuildContext(paths=BuildPaths(tmp_path))
    write(tmp_path, text)
    critic = ctx.critic()
    assert critic.config.vlm is not None and critic._vlm is not None
    assert critic.config.min_faithfulness == ctx.spec.quality.min_faithfulness == 1.0


def test_the_built_in_checks_are_chosen_in_spec_yaml(tmp_path: Path) -> None:
    write(tmp_path, HAIR + "quality: {attribute_checks: [eyewear], landmark_points: 5}\n")
    critic = BuildContext(paths=BuildPaths(tmp_path)).critic()
    assert critic.config.attribute_checks == {"eyewear"} and critic.config.landmark_points == 5


# --- CLIP ------------------------------------------------------------------------------------

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16,
                   "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                 "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight open_clip model, `facetory-tiny-clip`, saved as a local checkpoint."""
    import open_clip
    import torch

    root = tmp_path_factory.mktemp("clip")
    config = root / "facetory-tiny-clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("facetory-tiny-clip")
    torch.save(model.state_dict(), root / "tiny-clip.pt")
    return root / "tiny-clip.pt"


@pytest.mark.slow
def test_clip_from_spec_yaml_and_the_command_line_judges_the_build(tmp_path, tiny_clip):
    # spec.yaml names the model and the bar (a CLIPScore of 2.5 means a cosine of 1, which no
    # picture reaches); the checkpoint comes from the command line
    text = HAIR.replace("hair_color", "gender").replace("black", "female").replace(
        "blond", "male") + "quality: {clip: {model: facetory-tiny-clip, checkpoint: " \
        "unset.pt, min_clip_score: 2.5}}\n"
    out = tmp_path / "b"
    built = facetory("build", write(tmp_path, text), "--out", out, "--yes", "--offline",
                     "--no-train", "--clip-checkpoint", tiny_clip)
    assert built.exit_code == 0, built.output
    assert read_spec(out / "spec.yaml").quality.clip.checkpoint == tiny_clip
    assert "prompt_mismatch" in reasons(out)


# --- IP-Adapter and img2img variants on a diffusion backend ---------------------------------

PEOPLE = """\
name: people
classes: [{name: face, quota: 4}]
identities: {count: 2, images_per_identity: 2}
budget: {batch_size: 4, max_attempts_factor: 1}
generation: {diffusers: {steps: 2, device: cpu}}
image_size: 64
seed: 1
"""


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tools.tiny_sd import tiny_sd_once

    return tiny_sd_once(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def adapter(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tools.generate.test_diffusers_identity import save_ip_adapter

    return save_ip_adapter(tiny_sd, tmp_path_factory.mktemp("ip_adapter"))


@pytest.mark.slow
def test_ip_adapter_from_the_command_line_draws_people_from_their_first_image(
    tmp_path: Path, tiny_sd: Path, adapter: Path
) -> None:
    out = tmp_path / "b"
    built = facetory("build", write(tmp_path, PEOPLE), "--out", out, "--yes", "--offline",
                     "--no-train", "--backend", "diffusers-identity", "--model", tiny_sd,
                     "--ip-adapter", adapter)
    assert built.exit_code == 0, built.output
    spec = read_spec(out / "spec.yaml")
    assert (spec.generation.backend, spec.generation.identity.ip_adapter) == (
        "diffusers-identity", str(adapter))
    ctx = BuildContext(paths=BuildPaths(out))
    conditioning = sorted(read_provenance(out / r.path)["conditioning"]
                          for r in ctx.manifest.records())
    assert conditioning == ["ip-adapter", "ip-adapter", "txt2img", "txt2img"]


@pytest.mark.slow
def test_variants_on_a_diffusion_backend_are_img2img_from_the_accepted_image(
    tmp_path: Path, tiny_sd: Path
) -> None:
    text = (PEOPLE.replace("identities: {count: 2, images_per_identity: 2}\n", "")
            .replace("{diffusers: {steps: 2, device: cpu}}",
                     f"{{backend: diffusers, diffusers: {{model: '{tiny_sd}', steps: 2, "
                     "device: cpu}, img2img: {steps: 5}}")
            + "augmentations: [{name: smile, attributes: {expression: smile}, strength: 0.4}]\n")
    paths = BuildPaths(tmp_path / "b")
    write(tmp_path, text)
    assert facetory("plan", tmp_path / "spec.yaml", "--out", paths.root, "--offline").exit_code == 0
    services = Services(critic=FakeCritic(reject_share=0.0), embedder=fake_embedder)
    ctx = BuildContext(paths=paths, options=Options(no_train=True, yes=True), services=services)
    assert run_graph(ctx, resume={"action": "approve"}).outcome == "done"

    accepted = {r.image_id: r for r in ctx.manifest.records(Status.accepted)}
    variants = [r for r in accepted.values() if r.parent]
    assert len(variants) == 4 and len(accepted) == 8
    for record in variants:
        meta = read_provenance(paths.root / record.path)
        assert (record.backend, meta["augmentation"], meta["strength"]) == (
            "diffusers-img2img", "img2img", "0.4")
        assert accepted[record.parent].item_id == record.item_id.split("~")[0]
