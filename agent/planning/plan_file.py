"""plan.yaml and spec.yaml on disk: write, read and validate (review: `plan_review`,
approval: `approval`).

`plan.yaml` is for people: a comment on how to edit it, the summary tables, the spec (the part
to edit for quotas and proportions), then one line per item. Every write is atomic and
deterministic (same plan, same bytes). A copy of the last plan facetory wrote is kept beside it
(`.plan_base.yaml`) so `review` can tell exactly what a person changed. A malformed edit is
refused naming its line and field.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.language.requirements import trace, understood
from agent.language.spec import DatasetSpec, SpecError, dump_yaml, validation_message, yaml_problem
from agent.planning.plan import Plan, PlanColumns, PlanItems
from agent.planning.plan_store import INLINE_MAX, read_store, remove_unused, write_store
from tools.atomic import write_text
from tools.contracts import PlanItem
from tools.vocabulary import FACTORS, VARIED

FORMAT = "facetory-plan/1"
APPROVAL = "approval.json"
BASE = ".plan_base.yaml"
_TOP_KEYS = (
    "format", "understood", "summary", "balance", "requirements", "spec", "items_sha256", "items",
    "items_file",
)
"""`understood` and `requirements` (the requirement trace) are also shown by the web review."""
_ITEM_KEYS = (
    "id",
    "class",
    "split",
    "identity",
    "faces",
    "seed",
    "attributes",
    "variation",
    "prompt",
    "negative_prompt",
    "guidance_scale",
)
_REQUIRED = ("id", "class", "split", "seed", "attributes")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}
_UNSAFE = re.compile("[\u0080-\u009f\u2028\u2029\ufeff\ud800-\udfff]")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- spec.yaml ------------------------------------------------------------------------------


def write_spec(spec: DatasetSpec, path: str | Path) -> None:
    """Write the parsed spec (atomic)."""
    header = (
        "# facetory dataset spec (parsed from spec.txt). Edit it and run `facetory plan "
        "spec.yaml --out DIR` to plan again.\n"
    )
    write_text(path, header + spec.to_yaml())


def read_text(path: Path) -> str:
    """A build file's text; unreadable or not UTF-8 is a SpecError naming the file and byte."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path} is not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
            "save it as UTF-8"
        ) from None


def read_spec(path: str | Path) -> DatasetSpec:
    path = Path(path)
    return DatasetSpec.from_yaml(read_text(path), where=str(path))


# --- writing plan.yaml ----------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """One YAML flow scalar: plain when unambiguous, else a JSON (= YAML) quoted string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _string(str(value))


@lru_cache(maxsize=65536)
def _string(text: str) -> str:
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def item_record(item: PlanItem) -> dict[str, Any]:
    """An item as the plain mapping written to plan.yaml (keys in a fixed order)."""
    record: dict[str, Any] = {
        "id": item.id,
        "class": item.class_name,
        "split": item.split,
        "identity": item.identity,
        "faces": item.faces,
        "seed": item.seed,
        "attributes": dict(item.attributes),
    }
    if item.variation:
        record["variation"] = dict(item.variation)
    record |= {"prompt": item.prompt, "negative_prompt": item.negative_prompt}
    if item.guidance_scale is not None:
        record["guidance_scale"] = item.guidance_scale
    return record


def _item_line(record: dict[str, Any]) -> str:
    parts = []
    for key, value in record.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items())
            parts.append(f"{key}: {{{inner}}}")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    return "- {" + ", ".join(parts) + "}\n"


def items_digest(records: list[dict[str, Any]]) -> str:
    """sha256 of the items' content, taken over their canonical lines (not the file's
    formatting: reformatted but equal items give the same digest)."""
    return _lines_digest([_item_line(r) for r in records])


def _lines_digest(lines: list[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
    return h.hexdigest()


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The summary object (`facetory plan --json`, the review interrupt, plan.yaml)."""
    return plan.summary()


def render_plan(plan: Plan, store: tuple[str, str] | None = None) -> str:
    """The full text of plan.yaml; with `store` (file name, sha256) the items are not listed
    but named in that item store (see agent/planning/plan_store.py)."""
    if store is not None:
        records: list[dict[str, Any]] = []
    elif isinstance(plan.items, PlanItems) and plan.items._made is None:
        records = list(plan.items.columns.records())  # fresh plan: skip making PlanItems
    else:
        records = [item_record(item) for item in plan.items]
    summary = plan.summary()
    balance = plan.balance()
    head = (
        f"# facetory plan: {summary['total']} images in {len(summary['classes'])} classes.\n"
        "# To change it, edit `spec:` (class quotas, factor proportions, splits, seed) and the\n"
        "# whole plan is rebalanced, or edit single lines under `items:` (delete a line to drop\n"
        "# an image). Then run `facetory review DIR`: it validates this file, rebalances and\n"
        "# prints what changed. `understood:`, `summary:`, `balance:` and `requirements:` are\n"
        "# computed: do not edit them.\n"
        "# `facetory approve DIR` accepts the plan.\n"
    )
    body = dump_yaml(
        {
            "format": FORMAT,
            "understood": understood(plan.spec),
            "summary": summary,
            "balance": {"marginal": balance["marginal"], "pairwise": balance["pairwise"]},
            "requirements": [r.model_dump() for r in trace(plan.spec)],
        }
    )
    spec_text = dump_yaml({"spec": plan.spec.model_dump(mode="json")})
    if store is not None:
        return (
            head + body + spec_text
            + f"# The {summary['total']:,} items are in {store[0]} (written by facetory; more\n"
            f"# than {INLINE_MAX:,} items are reviewed by their summary above, not line by line).\n"
            + f"items_file: {store[0]}\nitems_sha256: {store[1]}\n"
        )
    lines = [_item_line(r) for r in records]
    digest = f"items_sha256: {_lines_digest(lines)}\n"
    return head + body + spec_text + digest + "items:\n" + ("".join(lines) or "[]\n")


def write_plan(plan: Plan, path: str | Path) -> None:
    """Write plan.yaml (atomic) and the base copy `review` diffs against; a plan of more than
    INLINE_MAX items keeps them in an item store beside it (written first, so plan.yaml
    never names a file that is not there)."""
    path = Path(path)
    store = write_store(plan.columns(), path.parent) if len(plan.items) > INLINE_MAX else None
    text = render_plan(plan, store)
    write_text(path, text)
    write_text(path.parent / BASE, text)
    remove_unused(path.parent, {store[0]} if store else set())


# --- reading plan.yaml ----------------------------------------------------------------------


def load_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a facetory plan (a mapping with spec and items)")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise SpecError(
            f"{where} line {line_of(text, [unknown[0]])}: unknown section '{unknown[0]}' "
            f"(expected {', '.join(_TOP_KEYS)})"
        )
    for key in ("spec", "items_file" if "items_file" in data else "items"):
        if key not in data:
            raise SpecError(f"{where}: the '{key}' section is missing")
    if data.get("format", FORMAT) != FORMAT:
        raise SpecError(f"{where}: format '{data.get('format')}' is not {FORMAT}")
    return data


def line_of(text: str, path: list[Any]) -> int:
    """1-based line of the node at `path` (keys and list indexes) in a YAML text."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line if node is not None else 0
    for step in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(step)), None)
            key = next((k for k, v in node.value if k.value == str(step)), None)
            if nxt is None:
                break
            line = key.start_mark.line if key is not None else nxt.start_mark.line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                break
            node = node.value[step]
            line = node.start_mark.line
        else:
            break
    return line + 1


def spec_of(data: dict[str, Any], text: str, where: str) -> DatasetSpec:
    raw = data["spec"]
    if not isinstance(raw, dict):
        raise SpecError(f"{where} line {line_of(text, ['spec'])}: spec must be a mapping")
    try:
        return DatasetSpec.model_validate(raw)
    except ValidationError as exc:
        loc = [p for p in exc.errors()[0]["loc"] if not str(p).startswith("function-")]
        line = line_of(text, ["spec", *loc])
        raise SpecError(f"{where} line {line}: spec.{validation_message(exc)}") from None


class ItemChecker:
    """Validates items against the spec; errors name the item's line."""

    def __init__(self, spec: DatasetSpec, text: str, where: str) -> None:
        self.spec = spec
        self.text = text
        self.where = where
        self.classes = {c.name: c for c in spec.classes}
        self.factors = {f.name: f for f in spec.factors}
        self.allowed_attrs = set(spec.attribute_names())
        self.derived = {f.name: f.derived() for f in spec.factors if f.derived()}
        self.lo, self.hi = spec.faces_range()
        self._lines: list[int] | None = None

    def line(self, index: int) -> int:
        if self._lines is None:
            # items are written one per line; when a person reformatted them, ask the parser
            head = self.text.split("\nitems:\n", 1)
            if len(head) == 2:
                start = head[0].count("\n") + 3  # 1-based line of the first item
                body = head[1].splitlines()
                if all(ln.startswith("- {") for ln in body if ln.strip()):
                    self._lines = [start + i for i, ln in enumerate(body) if ln.strip()]
            if self._lines is None:
                self._lines = []
        if index < len(self._lines):
            return self._lines[index]
        return line_of(self.text, ["items", index])

    def fail(self, index: int, message: str) -> SpecError:
        return SpecError(f"{self.where} line {self.line(index)}: items[{index}]: {message}")

    def item(self, index: int, raw: Any) -> PlanItem:
        if not isinstance(raw, dict):
            raise self.fail(index, "each item must be a mapping like {id: ..., class: ...}")
        unknown = [k for k in raw if k not in _ITEM_KEYS]
        if unknown:
            raise self.fail(index, f"unknown field '{unknown[0]}'")
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise self.fail(index, f"missing field '{missing[0]}'")
        try:
            item = PlanItem.model_validate(raw)
        except ValidationError as exc:
            raise self.fail(index, validation_message(exc)) from None
        self._check(index, item)
        return item

    def _check(self, index: int, item: PlanItem) -> None:
        """The first thing wrong with the item, in the order a person fixes them, raised."""
        for check in (self._basics, self._levels, self._rules):
            problem = check(item)
            if problem is not None:
                raise self.fail(index, problem)

    def _basics(self, item: PlanItem) -> str | None:
        """Its id, class, seed and faces."""
        if not _ID.match(item.id):
            return f"id '{item.id}' must be letters, digits, '.', '_' or '-'"
        if item.class_name not in self.classes:
            return f"class '{item.class_name}' is not in the spec ({', '.join(self.classes)})"
        if item.seed < 0:
            return f"seed must not be negative, got {item.seed}"
        if not self.lo <= item.faces <= self.hi:
            return f"faces {item.faces} is outside {self.lo}..{self.hi}"
        return None

    def _levels(self, item: PlanItem) -> str | None:
        """Each attribute a factor of the spec, at a level of it or the class's fixed one."""
        cspec = self.classes[item.class_name]
        for name, level in item.attributes.items():
            if name not in self.allowed_attrs:
                return f"attribute '{name}' is not a factor of the spec"
            fixed = cspec.attributes.get(name)
            if fixed is not None and level != fixed:
                return f"class '{cspec.name}' fixes {name}={fixed}, but the item has {level}"
            f = self.factors.get(name)
            if f is not None and fixed is None and level not in f.level_names():
                return f"{name}={level} is not a level of {name} ({', '.join(f.level_names())})"
        missing = [f.name for f in self.spec.factors if f.name not in item.attributes]
        return f"attributes is missing {missing[0]}" if missing else None

    def _rules(self, item: PlanItem) -> str | None:
        """Derived levels, variation, constraints and identity as the spec says."""
        attrs = item.attributes
        for fname, implied in self.derived.items():
            for dattr, dlevel in implied.get(attrs.get(fname, ""), {}).items():
                if attrs.get(dattr) != dlevel:
                    return (f"{fname}={attrs.get(fname)} means {dattr}={dlevel}, not "
                            f"{attrs.get(dattr)}")
        for name, level in item.variation.items():
            if name not in VARIED or level not in FACTORS[name] or name in attrs:
                return (f"variation {name}={level}: a level of a factor the renderer varies and "
                        f"the item does not ask for ({', '.join(VARIED)})")
        broken = next((con for con in self.spec.rules() if not con.allows(attrs)), None)
        if broken is not None:
            return f"breaks constraint '{broken.describe()}'"
        if self.spec.identities is None and item.identity is not None:
            return "identity must be null: the spec has no identities"
        if self.spec.identities is not None and not item.identity:
            return "identity is missing (this is an identity dataset)"
        return None

    def identities(self, items: list[PlanItem]) -> None:
        """One person: one class, one split and the same identity-level attributes."""
        if self.spec.identities is None:
            return
        scoped = [f.name for f in self.spec.factors if f.scope == "identity"]
        first: dict[str, tuple[int, PlanItem]] = {}
        counts: dict[str, int] = {}
        for i, item in enumerate(items):
            ident = item.identity or ""
            counts[ident] = counts.get(ident, 0) + 1
            if ident not in first:
                first[ident] = (i, item)
                continue
            j, ref = first[ident]
            if item.class_name != ref.class_name or item.split != ref.split:
                raise self.fail(
                    i,
                    f"identity {ident} is in {ref.class_name}/{ref.split} on line "
                    f"{self.line(j)}; one person stays in one class and one split",
                )
            for name in scoped:
                if item.attributes.get(name) != ref.attributes.get(name):
                    raise self.fail(
                        i,
                        f"identity {ident} has {name}={ref.attributes.get(name)} on line "
                        f"{self.line(j)}; {name} is fixed per person",
                    )
        sizes = set(counts.values())
        if len(sizes) > 1:
            raise SpecError(
                f"{self.where}: every identity needs the same number of images "
                f"(found {min(sizes)} to {max(sizes)})"
            )


def items_of(data: dict[str, Any], spec: DatasetSpec, text: str, where: str) -> list[PlanItem]:
    raw = data["items"]
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise SpecError(f"{where} line {line_of(text, ['items'])}: items must be a list")
    checker = ItemChecker(spec, text, where)
    items = [checker.item(i, r) for i, r in enumerate(raw)]
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            raise checker.fail(i, f"id '{item.id}' repeats line {checker.line(seen[item.id])}")
        seen[item.id] = i
    checker.identities(items)
    return items


def read_plan(path: str | Path) -> Plan:
    """Read and validate plan.yaml; a bad edit is a SpecError naming the line and field."""
    path = Path(path)
    return parse_plan(read_text(path), str(path), path.parent)


def parse_plan(
    text: str, where: str = "plan.yaml", root: Path | None = None,
    data: dict[str, Any] | None = None,
) -> Plan:
    """A plan from its text; `root` is where its item store lies (when it has one).

    `data`: the text's YAML, when the caller has loaded it already (`load_yaml`; read, never
    changed: 3 s of a 10,000-item plan's reading is the YAML)."""
    if data is None:
        data = load_yaml(text, where)
    spec = spec_of(data, text, where)
    stored = stored_items(data, where, root)
    if stored is not None:
        return Plan.from_columns(spec, spec.seed, stored)
    items = items_of(data, spec, text, where)
    return Plan(spec=spec, seed=spec.seed, items=items)


def stored_items(data: dict[str, Any], where: str, root: Path | None) -> PlanColumns | None:
    """The plan's items from its item store (None when plan.yaml lists them itself)."""
    name = data.get("items_file")
    if name is None:
        return None
    if not isinstance(name, str) or Path(name).name != name:
        raise SpecError(f"{where}: items_file must be a file name beside it, got {name!r}")
    return read_store((root or Path(".")) / name, str(data.get("items_sha256")), where)
