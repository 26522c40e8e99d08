"""Backends declare what they can do; callers ask that instead of comparing backend names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools.config import BACKENDS, DiffusersConfig, GenerationConfig, ProceduralConfig
from tools.errors import FacetoryError
from tools.generate import DEFAULT_BACKEND, Capabilities, capabilities, get_generator

ROOT = Path(__file__).resolve().parents[3]


def string_literals(value: str, *folders: str) -> list[str]:
    """`file:line` of every string constant equal to `value` in the folders' Python files."""
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value == value:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_name_procedural_is_written_only_where_it_is_registered_and_made_the_default():
    places = string_literals("procedural", "agent", "tools")
    assert 1 <= len(places) <= 3, places


def test_every_backend_declares_its_capabilities_beside_its_generator() -> None:
    declared = {name: capabilities(name) for name in BACKENDS}
    assert all(isinstance(c, Capabilities) for c in declared.values())
    default = declared[DEFAULT_BACKEND]
    assert default.pure_recipes and default.draws_levels and not default.needs_gpu
    assert declared[DiffusersConfig.backend].reads_age_gender
    assert {c.identity for c in declared.values()} == {"fixed", "none", "anchor"}


def test_an_unknown_backend_name_is_a_one_line_error_listing_the_known_ones() -> None:
    with pytest.raises(FacetoryError, match="no generation backend 'dall-e': choose one of"):
        capabilities("dall-e")


def test_a_backend_takes_its_block_from_the_spec_whole() -> None:
    generation = GenerationConfig(backend="procedural", fault_rate=0.25)
    generator = get_generator(generation.backend_config(), image_size=64)
    assert generator.config == ProceduralConfig(fault_rate=0.25)
    assert (generator.name, generator.image_size, generator.fault_rate) == (
        DEFAULT_BACKEND, 64, 0.25)
