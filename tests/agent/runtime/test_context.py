"""The build context turns the spec's settings into configured tools."""

from __future__ import annotations

from pathlib import Path

from agent.language.spec import DatasetSpec
from agent.planning.plan_file import write_spec
from agent.runtime.context import BuildContext
from tools.build_dir import BuildPaths
from tools.critic.readability import enforced_groups
from tools.generate.diffusers_backend import DiffusersGenerator


def build_with(root: Path, **quality: object) -> BuildContext:
    spec = DatasetSpec(
        name="ctx", classes=[{"name": "face", "quota": 4}], quality=quality, seed=1
    )
    paths = BuildPaths(root)
    paths.root.mkdir(parents=True)
    write_spec(spec, paths.spec_yaml)
    return BuildContext(paths=paths)


def test_the_critic_follows_the_specs_quality_settings(tmp_path: Path) -> None:
    default = build_with(tmp_path / "a").critic().config
    assert default.cnn_detector is False
    careful = build_with(
        tmp_path / "b", cnn_detector=True, min_critic_score=0.7, min_faithfulness=0.9
    ).critic().config
    assert careful.cnn_detector is True
    assert (careful.min_critic_score, careful.min_faithfulness) == (0.7, 0.9)


class _Diffusion:
    """Stands in for a diffusion backend: only what it declares it can do matters here."""

    name = "diffusers"
    capabilities = DiffusersGenerator.capabilities


def test_age_and_gender_reject_on_diffusion_and_on_procedural_where_the_model_reads_it(
    tmp_path: Path,
) -> None:
    procedural = build_with(tmp_path / "a").critic().config.demographics
    readable = enforced_groups("procedural")
    assert procedural.factors == {"age_group", "gender"}
    assert procedural.enforce_groups == readable
    assert procedural.enforce is any(readable.values())
    diffusion = build_with(tmp_path / "b")
    diffusion.services.generator = _Diffusion()  # type: ignore[assignment]
    assert diffusion.critic().config.demographics.enforce is True
    assert diffusion.critic().config.demographics.enforce_groups is None


def test_the_spec_can_force_or_switch_off_the_age_and_gender_checks(tmp_path: Path) -> None:
    forced = build_with(tmp_path / "a", demographic_checks="enforce").critic().config
    assert forced.demographics.enforce is True
    measured = build_with(tmp_path / "b", demographic_checks="measure")
    measured.services.generator = _Diffusion()  # type: ignore[assignment]
    assert measured.critic().config.demographics.enforce is False
    off = build_with(tmp_path / "c", demographic_checks="off").critic().config
    assert off.demographics.factors == frozenset()
