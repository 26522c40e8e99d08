"""What the prompt safety check costs and what it refuses on known text.

    .venv/bin/python bench/bench_safety.py [--n 20000]

Printed: the check's cost per prompt (prompt and negative prompt of a 200-character
template prompt), uncached and cached; the time to check every item of a plan of about
`--n` child faces (`specs/child_ethnicity.txt` scaled; template prompts repeat, so most
checks are cache hits); and, over every request of the reader corpus
(`tests/agent/language/reader_corpus.yaml`) and `specs/*.txt`, how many the request check refuses
and whether each refusal is in a family meant to be refused; then the generated corpus of
variations (`tests/tools/safety_corpus.py`: compounds, inflections, case, spacing, look-alike
letters, negated lists) refused on each path a prompt takes, and the false refusals over every
prompt the vocabulary composes for minors (must be 0).
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.language.parse import parse_spec  # noqa: E402
from agent.language.safety import RefusedError, check_request, check_safety  # noqa: E402
from agent.language.spec import DatasetSpec  # noqa: E402
from agent.planning.planner import make_plan  # noqa: E402
from tests.agent.planning.test_composed_prompts_are_reviewed import composed  # noqa: E402
from tests.tools.safety_corpus import corpus as variations  # noqa: E402
from tools.contracts import PlanItem  # noqa: E402
from tools.errors import FacetoryError  # noqa: E402
from tools.safety import _prompt_problems, check_items, prompt_problems  # noqa: E402
from tools.safety import suggestion_problems as words_problems  # noqa: E402

PROMPT = (
    "photorealistic portrait photo of a South Asian girl with a sad expression, medium skin "
    "(Monk skin tone 5), red hair, wearing glasses, plain studio background, soft front "
    "lighting, sharp focus, natural detail"
)
NEGATIVE = (
    "blurry, out of focus, deformed face, distorted features, cropped face, cut-off head, "
    "watermark, text, lowres, nsfw, nudity, sunglasses, multiple people, extra faces, cartoon"
)


def per_prompt(k: int = 3000) -> tuple[float, float]:
    _prompt_problems.cache_clear()
    start = time.perf_counter()
    for i in range(k):
        _prompt_problems(f"{PROMPT} {i}", NEGATIVE, True)
    uncached = (time.perf_counter() - start) / k * 1e6
    start = time.perf_counter()
    for _ in range(k):
        _prompt_problems(f"{PROMPT} 0", NEGATIVE, True)
    return uncached, (time.perf_counter() - start) / k * 1e6


def plan_check(n: int) -> tuple[int, int, float]:
    spec = parse_spec(Path("specs/child_ethnicity.txt").read_text(), offline=True)
    scale = max(1, round(n / spec.total))
    spec = spec.model_copy(update={"classes": [
        c.model_copy(update={"quota": c.quota * scale}) for c in spec.classes]})
    items = list(make_plan(spec).items)
    _prompt_problems.cache_clear()
    start = time.perf_counter()
    check_items(items)
    seconds = time.perf_counter() - start
    return len(items), _prompt_problems.cache_info().currsize, seconds


def corpus() -> tuple[int, list[tuple[str, str]]]:
    data = yaml.safe_load(Path("tests/agent/language/reader_corpus.yaml").read_text())
    families = data if isinstance(data, list) else data.get("families", [])
    requests = [(f.get("family", ""), r) for f in families for r in f.get("requests", [])]
    requests += [(path, Path(path).read_text()) for path in sorted(glob.glob("specs/*.txt"))]
    refused = []
    for family, text in requests:
        try:
            check_request(text)
        except RefusedError:
            refused.append((family, text))
    return len(requests), refused


CHILD = {"age_group": "child"}
KIDS = {"name": "kids", "quota": 4, "attributes": CHILD}


def _refused(check, phrase: str) -> bool:
    try:
        check(phrase)
    except FacetoryError:
        return True
    return False


def _item(phrase: str) -> PlanItem:
    return PlanItem(id="kids-0", class_name="kids", attributes=CHILD, seed=0,
                    prompt=f"portrait photo of a girl, {phrase}")


def _yaml_spec(phrase: str) -> None:
    classes = [{**KIDS, "description": f"a girl, {phrase}"}]
    parse_spec(yaml.safe_dump({"classes": classes}, allow_unicode=True), offline=True)


def _web_description(phrase: str) -> None:
    """What the review page runs on an edited description (agent/web/plan_view.py)."""
    spec = DatasetSpec.from_data({"classes": [{**KIDS, "description": f"a girl, {phrase}"}]})
    check_request(spec.classes[0].description, spec)


def _llm_words(phrase: str, minors: bool = True) -> None:
    """What enrichment and retry wording run on the model's words (for a child's cell: the
    allow list and the deny lists; for adults: the deny lists)."""
    if words_problems(phrase, minors=minors):
        raise FacetoryError("refused")


PATHS = {
    "plan item prompt (review/approve)": lambda p: check_safety(
        DatasetSpec.from_data({"classes": [KIDS]}), [_item(p)], "plan.yaml"),
    "generator's door (check_items)": lambda p: check_items([_item(p)]),
    "YAML class description (plan)": _yaml_spec,
    "web description field": _web_description,
    "LLM enrichment / retry words": _llm_words,
    "LLM words for adults (deny list)": lambda p: _llm_words(p, minors=False),
}


def variation_figures() -> None:
    phrases = [phrase for _, _, phrase in variations()]
    print(f"variation corpus: {len(phrases):,} phrases")
    for name, check in PATHS.items():
        refused = sum(_refused(check, p) for p in phrases)
        print(f"  {name}: {refused:,} / {len(phrases):,} refused")
    prompts = list(composed())
    false = sum(1 for p, n, a in prompts if prompt_problems(p, n, a))
    print(f"composed prompts for minors: {len(prompts):,}, false refusals {false}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    uncached, cached = per_prompt()
    print(f"per prompt (prompt + negative): {uncached:.0f} us uncached, {cached:.1f} us cached")
    items, distinct, seconds = plan_check(args.n)
    print(f"plan of {items:,} items ({distinct:,} distinct prompts): checked in {seconds:.2f} s")
    total, refused = corpus()
    meant = sum(1 for family, _ in refused if family.startswith("refused"))
    print(f"requests: {total} checked, {len(refused)} refused, {meant} of them in a family "
          "meant to be refused")
    for family, text in refused:
        if not family.startswith("refused"):
            print(f"  unexpected: {family}: {text[:80]!r}")
    variation_figures()


if __name__ == "__main__":
    main()
