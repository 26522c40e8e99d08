"""`facetory vocabulary` and `facetory --version`: what a request may say, from the yaml."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from agent.cli.app import app
from tools.vocabulary import VOCABULARY

runner = CliRunner()


def facetory(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_version_prints_the_installed_version_and_exits():
    result = facetory("--version")
    assert result.exit_code == 0
    assert re.fullmatch(r"facetory \d+\.\d+\.\d+\S*\n", result.stdout)


def test_vocabulary_lists_every_factor_with_its_levels_and_check():
    result = facetory("vocabulary")
    assert result.exit_code == 0, result.output
    for name, words in VOCABULARY.items():
        assert name in result.stdout
        assert next(iter(words.levels)) in result.stdout


def test_a_factor_said_as_a_person_would_shows_its_words_and_prompts():
    result = facetory("vocabulary", "Age group")
    assert result.exit_code == 0, result.output
    assert "toddler" in result.stdout and "very old person" in result.stdout


def test_vocabulary_json_is_the_yaml_data():
    result = facetory("vocabulary", "eyewear", "--json")
    [factor] = json.loads(result.stdout)
    assert factor["factor"] == "eyewear"
    assert set(factor["levels"]) == set(VOCABULARY["eyewear"].levels)
    assert factor["when_not_asked"] == "none in every image"


def test_vocabulary_json_shows_every_fact_the_renderer_and_critic_use():
    [age] = json.loads(facetory("vocabulary", "age group", "--json").stdout)
    child = age["levels"]["child"]
    assert child["years"] == [0, 15] and child["nouns"]["female"] == "girl"
    assert child["minor"] is True and child["prior"] == 0.1 and age["check"] == "demographics"
    [hair] = json.loads(facetory("vocabulary", "hair style", "--json").stdout)
    assert hair["prior_given"] == "gender" and hair["levels"]["bald"]["prior"]["male"] == 0.12


def test_an_unknown_factor_is_one_line_and_exit_2():
    result = facetory("vocabulary", "tattoos")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "no factor called 'tattoos'" in result.output


def test_help_shows_plain_flags_and_argument_names_that_read():
    from agent.cli.app import COMMANDS

    for name in COMMANDS:
        text = facetory(name, "--help").stdout
        assert "<bool>" not in text and "{" not in text, name
    build = facetory("build", "--help").stdout
    assert "Usage: root build [OPTIONS] SPEC" in build or "build [OPTIONS] SPEC" in build
    assert re.search(r"--out\s+-o\s+DIR", build)
    assert "[OPTIONS] DIR" in facetory("run", "--help").stdout
