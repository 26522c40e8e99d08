"""Commands that describe facetory itself rather than a build: `vocabulary` and `--version`.

The factors, levels and synonyms a request may use live in `tools/vocabulary/factors.yaml`;
`facetory vocabulary` prints them from there, so what a person reads is what the reader,
the renderer and the critic use.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agent.cli.shared import JsonOpt, console
from tools.errors import FacetoryError
from tools.vocabulary import NEUTRAL, VOCABULARY, FactorWords


def facetory_version() -> str:
    """The installed distribution's version (the source tree's when run uninstalled)."""
    try:
        return version("facetory")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _factor_name(text: str) -> str:
    """A factor as a person may type it ('age group', 'Eyewear', 'hair-colour')."""
    wanted = text.strip().lower().replace("-", " ").replace("_", " ")
    for name, words in VOCABULARY.items():
        if wanted in {name.replace("_", " "), words.title.lower(), *words.names}:
            return name
    known = ", ".join(VOCABULARY)
    raise FacetoryError(f"no factor called '{text}'; the factors are: {known}")


def _factor_json(name: str, words: FactorWords) -> dict:
    return {
        "factor": name,
        "title": words.title,
        "names": words.names,
        "scope": words.scope,
        "drawn_by_renderer": words.drawn,
        "checked_by": words.checked,
        "when_not_asked": _unasked(name),
        **words.model_dump(include={"check", "worn", "probe", "prior_given"}, exclude_none=True),
        "levels": {
            lv: {"words": w.words, "prompt": w.prompt,
                 **w.model_dump(exclude={"words", "prompt"}, exclude_defaults=True)}
            for lv, w in words.levels.items()
        },
    }


def _unasked(name: str) -> str:
    """What the procedural renderer draws when a request does not mention the factor."""
    if name in NEUTRAL:
        return f"{NEUTRAL[name]} in every image"
    return "varied per image (each plan item's variation)"


def _overview() -> Table:
    table = Table(title="Factors a request may use", title_justify="left", expand=False)
    table.add_column("factor", style="bold", no_wrap=True)
    table.add_column("levels")
    table.add_column("checked by")
    for name, words in VOCABULARY.items():
        table.add_row(name, escape(", ".join(words.levels)),
                      escape(words.checked or "nothing built in (a vision-language critic can)"))
    return table


def _detail(name: str, words: FactorWords) -> Table:
    table = Table(title=f"{name}: {words.title}", title_justify="left", expand=False,
                  caption=escape(f"drawn by the renderer: {words.drawn}; checked by: "
                                 f"{words.checked or 'nothing built in'}; when not asked: "
                                 f"{_unasked(name)}"),
                  caption_justify="left")
    table.add_column("level", style="bold", no_wrap=True)
    table.add_column("words a request may use")
    table.add_column("prompt phrase")
    for level, lw in words.levels.items():
        table.add_row(level, escape(", ".join(lw.words)), escape(lw.prompt or "-"))
    return table


FactorArg = Annotated[
    str | None,
    typer.Argument(metavar="FACTOR", help="One factor in detail (e.g. eyewear, 'age group')."),
]


def vocabulary_command(factor: FactorArg = None, as_json: JsonOpt = False) -> None:
    """The factors, levels and words a request may use, and how each is drawn and checked."""
    names = [_factor_name(factor)] if factor else list(VOCABULARY)
    if as_json:
        print(json.dumps([_factor_json(n, VOCABULARY[n]) for n in names], indent=2))
        return
    if factor:
        console.print(_detail(names[0], VOCABULARY[names[0]]))
        return
    console.print(_overview())
    console.print("`facetory vocabulary FACTOR` shows a factor's words and prompt phrases.")
