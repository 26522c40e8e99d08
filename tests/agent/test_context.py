"""The build context turns the spec's settings into configured tools."""

from __future__ import annotations

from pathlib import Path

from agent.context import BuildContext
from agent.plan_io import write_spec
from agent.spec import DatasetSpec
from tools.build_dir import BuildPaths


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
    assert (careful.min_score, careful.min_faithfulness) == (0.7, 0.9)
