"""LLM mode's accounting: does it ask about an LLM spec that drops part of a request, and leave a
faithful one alone?

No model is run: for every request the offline reader plans, its spec stands in for a faithful
LLM spec, and three unfaithful ones are made from it by dropping a class (its quota goes to the
first class), a factor, or the attributes a class fixes, or by naming the classes 'class 1',
'class 2', ... (what they fix kept). Each spec is checked as LLM mode checks
it (`agent.language.parse.llm_problems`); the baseline is the accounting alone (numbers and
vocabulary words, the check before the content words were accounted for). Requests: the reader
corpus (tests/agent/language/reader_corpus.yaml) and specs/*.txt, or the YAML files given (a
list of `text:` entries, as ../shared/requests/dev.yaml).

    .venv/bin/python bench/bench_llm_accounting.py [FILE.yaml ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.language.accounting import account  # noqa: E402
from agent.language.parse import llm_problems, parse_spec  # noqa: E402
from agent.language.spec import DatasetSpec, SpecError  # noqa: E402


def requests(files: list[str]) -> list[str]:
    """The requests of the given files, or of the reader corpus and specs/*.txt."""
    if files:
        return [r["text"] for f in files for r in yaml.safe_load(Path(f).read_text())]
    corpus = yaml.safe_load((ROOT / "tests/agent/language/reader_corpus.yaml").read_text())
    texts = [t for fam in corpus if "error" not in fam for t in fam["requests"]]
    return texts + [p.read_text() for p in sorted((ROOT / "specs").glob("*.txt"))]


def _rebuilt(spec: DatasetSpec, change: Callable[[dict], None]) -> DatasetSpec | None:
    data = spec.model_dump(mode="json")
    change(data)
    try:
        return DatasetSpec.model_validate(data)
    except ValueError:
        return None


def _drop_class(data: dict) -> None:
    gone = data["classes"].pop()
    data["classes"][0]["quota"] += gone["quota"]


def _rename_classes(data: dict) -> None:
    for i, c in enumerate(data["classes"], 1):
        c["name"] = f"class {i}"


def _drop_attributes(data: dict) -> None:
    fixed = [c for c in data["classes"] if c["attributes"]]
    fixed[-1]["attributes"] = {}


MUTATIONS: dict[str, tuple[Callable[[DatasetSpec], bool], Callable[[dict], None]]] = {
    "a class dropped": (lambda s: len(s.classes) > 1, _drop_class),
    "a factor dropped": (lambda s: bool(s.factors), lambda d: d["factors"].pop()),
    "a class's attributes dropped": (lambda s: any(c.attributes for c in s.classes),
                                     _drop_attributes),
    "the classes renamed 'class 1', 'class 2', ... (attributes kept)": (
        lambda s: len(s.classes) > 1, _rename_classes),
}


def main(files: list[str]) -> None:
    texts = requests(files)
    planned, asked = 0, []
    tried = {k: [0, 0, 0] for k in MUTATIONS}  # tried, caught, caught by the accounting alone
    for text in texts:
        try:
            spec = parse_spec(text, offline=True)
        except SpecError:
            continue
        planned += 1
        if llm_problems(text, spec):
            asked.append(text[:70])
        for name, (applies, change) in MUTATIONS.items():
            wrong = _rebuilt(spec, change) if applies(spec) else None
            if wrong is None or wrong == spec:
                continue
            tried[name][0] += 1
            tried[name][1] += bool(llm_problems(text, wrong))
            tried[name][2] += not account(text, wrong).ok
    print(f"{len(texts)} requests, {planned} planned by the offline reader")
    print(f"faithful spec asked about: {len(asked)} of {planned}")
    for text in asked:
        print(f"  {text!r}")
    for name, (n, caught, before) in tried.items():
        print(f"{name}: asked about {caught} of {n} ({100 * caught / max(n, 1):.1f}%); "
              f"accounting alone {before} ({100 * before / max(n, 1):.1f}%)")


if __name__ == "__main__":
    main(sys.argv[1:])
