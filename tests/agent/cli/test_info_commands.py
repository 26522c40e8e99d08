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


CLICK_TYPES = {"TEXT", "INTEGER", "FLOAT", "PATH", "BOOLEAN"}


def test_every_option_that_takes_a_value_names_what_it_takes():
    import typer.main

    from agent.cli.app import COMMANDS

    group = typer.main.get_command(app)
    for name in COMMANDS:
        command = group.commands[name]
        ctx = command.make_context(name, ["--help"], resilient_parsing=True)
        for param in command.params:
            if getattr(param, "is_flag", False) or param.param_type_name != "option":
                continue
            metavar = param.make_metavar(ctx).split()[0]
            assert metavar not in CLICK_TYPES, f"facetory {name} {param.opts[0]} shows {metavar}"


def test_help_at_80_columns_cuts_no_word():
    from agent.cli.app import COMMANDS

    for name in ["", *COMMANDS]:
        text = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "80"}).stdout
        assert "\u2026" not in text, f"facetory {name} --help cuts: " + next(
            line for line in text.splitlines() if "\u2026" in line)


def test_every_command_is_summed_up_in_one_line_in_the_command_list():
    from agent.cli.app import COMMANDS

    for name, command in COMMANDS.items():
        summary = (command.__doc__ or "").strip().split("\n\n")[0]
        assert summary and "\n" not in summary, f"facetory {name}: {summary!r}"
