"""The Plan: a spec, a seed and one PlanItem per image, plus the counts people review.

Plans can hold millions of items, and building a million pydantic objects takes seconds, so a
fresh plan keeps its items as columns (numpy arrays) and makes `PlanItem`s on demand.
`plan.items` is a read-only sequence either way; replacing it with a plain list
(`plan.model_copy(update={"items": [...]})`) is fine, every computation here accepts both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from pydantic import BaseModel, ConfigDict, PrivateAttr

from agent.language.spec import DatasetSpec
from tools.contracts import PlanItem
from tools.generate.procedural import unasked_variation

SPLITS = ("train", "val", "test")


@dataclass
class PlanColumns:
    """Items as columns; row i is item i. Level codes index the name lists; -1 means absent."""

    class_names: list[str]
    class_slugs: list[str]
    class_index: np.ndarray
    number: np.ndarray
    """1-based running number of the item within its class (its id is `<slug>-<number>`)."""
    attr_names: list[str]
    attr_levels: list[list[str]]
    codes: np.ndarray
    """(items, attributes) level codes."""
    identity: np.ndarray
    identity_names: list[str]
    split: np.ndarray
    seed: np.ndarray
    faces: np.ndarray
    prompt: np.ndarray
    prompts: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]]
    """(prompt, negative prompt) table that `prompt` indexes, or a function that makes it
    (prompt text is made when first read: planning a million items need not write them)."""
    ids: list[str] | None = None
    """Explicit ids (plans read back from a file); None: derived from slug and number."""
    guidance: list[float | None] | None = None
    width: int = field(default=6)
    vary: bool = False
    """List each item's `variation` (what the procedural renderer varies that is not asked);
    the planner sets it for procedural plans listed line by line in plan.yaml."""
    _variation: dict[int, dict[str, str]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.class_index.shape[0])

    def prompt_table(self) -> list[tuple[str, str]]:
        if callable(self.prompts):
            self.prompts = self.prompts()
        return self.prompts

    def item_id(self, i: int) -> str:
        if self.ids is not None:
            return self.ids[i]
        return f"{self.class_slugs[self.class_index[i]]}-{int(self.number[i]):0{self.width}d}"

    def attributes(self, i: int) -> dict[str, str]:
        row = self.codes[i]
        return {
            name: self.attr_levels[a][code]
            for a, (name, code) in enumerate(zip(self.attr_names, row.tolist(), strict=True))
            if code >= 0
        }

    def variation(self, i: int) -> dict[str, str]:
        """Item i's declared variation (made when first asked, then kept)."""
        if not self.vary:
            return {}
        if i not in self._variation:
            ident = int(self.identity[i])
            self._variation[i] = unasked_variation(PlanItem.model_construct(
                attributes=self.attributes(i),
                identity=self.identity_names[ident] if ident >= 0 else None,
                seed=int(self.seed[i]),
                faces=int(self.faces[i]),
            ))
        return self._variation[i]

    def records(self) -> Iterator[dict[str, Any]]:
        """Items as the plain mappings plan.yaml holds, without making PlanItems."""
        names, levels = self.attr_names, self.attr_levels
        prompts = self.prompt_table()
        for i, (row, ci, ident, split, seed, faces, pi) in enumerate(
            zip(
                self.codes.tolist(),
                self.class_index.tolist(),
                self.identity.tolist(),
                self.split.tolist(),
                self.seed.tolist(),
                self.faces.tolist(),
                self.prompt.tolist(),
                strict=True,
            )
        ):
            record = {
                "id": self.item_id(i),
                "class": self.class_names[ci],
                "split": SPLITS[split],
                "identity": self.identity_names[ident] if ident >= 0 else None,
                "faces": faces,
                "seed": seed,
                "attributes": {names[a]: levels[a][c] for a, c in enumerate(row) if c >= 0},
            }
            if variation := self.variation(i):
                record["variation"] = dict(variation)
            record |= {"prompt": prompts[pi][0], "negative_prompt": prompts[pi][1]}
            guidance = self.guidance[i] if self.guidance is not None else None
            if guidance is not None:
                record["guidance_scale"] = guidance
            yield record

    def all_items(self) -> list[PlanItem]:
        """Every item, made in one pass (several times faster than item(i) in a loop)."""
        names, levels = self.attr_names, self.attr_levels
        prompts = self.prompt_table()
        classes = [self.class_names[c] for c in range(len(self.class_names))]
        idents = self.identity.tolist()
        construct = PlanItem.model_construct
        out = []
        for i, (row, ci, ident, split, seed, faces, pi) in enumerate(
            zip(
                self.codes.tolist(),
                self.class_index.tolist(),
                idents,
                self.split.tolist(),
                self.seed.tolist(),
                self.faces.tolist(),
                self.prompt.tolist(),
                strict=True,
            )
        ):
            prompt, negative = prompts[pi]
            out.append(
                construct(
                    id=self.item_id(i),
                    class_name=classes[ci],
                    attributes={names[a]: levels[a][c] for a, c in enumerate(row) if c >= 0},
                    variation=self.variation(i),
                    identity=self.identity_names[ident] if ident >= 0 else None,
                    split=SPLITS[split],
                    seed=seed,
                    prompt=prompt,
                    negative_prompt=negative,
                    faces=faces,
                    guidance_scale=self.guidance[i] if self.guidance is not None else None,
                )
            )
        return out

    def item(self, i: int) -> PlanItem:
        ident = int(self.identity[i])
        prompt, negative = self.prompt_table()[int(self.prompt[i])]
        return PlanItem.model_construct(
            id=self.item_id(i),
            class_name=self.class_names[int(self.class_index[i])],
            attributes=self.attributes(i),
            variation=self.variation(i),
            identity=self.identity_names[ident] if ident >= 0 else None,
            split=SPLITS[int(self.split[i])],
            seed=int(self.seed[i]),
            prompt=prompt,
            negative_prompt=negative,
            faces=int(self.faces[i]),
            guidance_scale=self.guidance[i] if self.guidance is not None else None,
        )


class PlanItems(Sequence[PlanItem]):
    """A read-only sequence of PlanItems made from columns when first read, then kept."""

    def __init__(self, columns: PlanColumns) -> None:
        self.columns = columns
        self._made: list[PlanItem] | None = None

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, index: int) -> PlanItem: ...
    @overload
    def __getitem__(self, index: slice) -> list[PlanItem]: ...
    def __getitem__(self, index: int | slice) -> PlanItem | list[PlanItem]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self._made is not None:
            return self._made[index]
        return self.columns.item(index)

    def __iter__(self) -> Iterator[PlanItem]:
        if self._made is None:
            self._made = self.columns.all_items()
        return iter(self._made)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"PlanItems({len(self)} items)"


class Plan(BaseModel):
    """A spec, the seed it was planned with, and one item per image."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: DatasetSpec
    seed: int
    items: Sequence[PlanItem]
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_columns(cls, spec: DatasetSpec, seed: int, columns: PlanColumns) -> Plan:
        return cls.model_construct(spec=spec, seed=seed, items=PlanItems(columns))

    def columns(self) -> PlanColumns:
        """The items as columns (built once from a plain list when the items were replaced)."""
        if isinstance(self.items, PlanItems):
            return self.items.columns
        cached = self._cache.get("columns")
        if cached is not None and cached[0] is self.items:
            return cached[1]
        cols = columns_from_items(self.spec, list(self.items))
        self._cache["columns"] = (self.items, cols)
        return cols

    def summary(self) -> dict[str, Any]:
        """Counts a person reviews: total, classes, per-class level counts, splits, faces."""
        return summarize(self.spec, self.columns(), self.seed)

    def balance(self) -> dict[str, Any]:
        """Largest marginal and pairwise deviation from target, per class and overall."""
        return balance_report(self.spec, self.columns())


def _attribute_levels(spec: DatasetSpec, items: list[PlanItem]
                      ) -> tuple[list[str], list[dict[str, int]]]:
    """The attributes of the spec and the items (the spec's first), and per attribute its
    levels' codes (the factor's levels first; the items add others as they meet them)."""
    attr_names = spec.attribute_names()
    for item in items:
        attr_names += [attr for attr in item.attributes if attr not in attr_names]
    level_maps: list[dict[str, int]] = [{} for _ in attr_names]
    for a, name in enumerate(attr_names):
        f = spec.factor(name)
        if f is not None:
            level_maps[a] = {lv: i for i, lv in enumerate(f.level_names())}
    return attr_names, level_maps


def columns_from_items(spec: DatasetSpec, items: list[PlanItem]) -> PlanColumns:
    """Columns for items that came from a file or an edit (explicit ids, any prompts)."""
    class_names = [c.name for c in spec.classes]
    class_pos = {n: i for i, n in enumerate(class_names)}
    attr_names, level_maps = _attribute_levels(spec, items)
    attr_pos = {n: i for i, n in enumerate(attr_names)}
    n = len(items)
    codes = np.full((n, len(attr_names)), -1, dtype=np.int32)
    identity_names: list[str] = []
    ident_pos: dict[str, int] = {}
    identity = np.full(n, -1, dtype=np.int32)
    prompts: list[tuple[str, str]] = []
    prompt_pos: dict[tuple[str, str], int] = {}
    prompt = np.zeros(n, dtype=np.int32)
    split_pos = {s: i for i, s in enumerate(SPLITS)}
    for i, item in enumerate(items):
        for attr, level in item.attributes.items():
            a = attr_pos[attr]
            codes[i, a] = level_maps[a].setdefault(level, len(level_maps[a]))
        if item.identity is not None:
            identity[i] = ident_pos.setdefault(item.identity, len(ident_pos))
            if identity[i] == len(identity_names):
                identity_names.append(item.identity)
        key = (item.prompt, item.negative_prompt)
        prompt[i] = prompt_pos.setdefault(key, len(prompt_pos))
        if prompt[i] == len(prompts):
            prompts.append(key)
    attr_levels = [sorted(m, key=m.__getitem__) for m in level_maps]
    return PlanColumns(
        class_names=class_names,
        class_slugs=[c.slug for c in spec.classes],
        class_index=np.array([class_pos[it.class_name] for it in items], dtype=np.int32),
        number=np.arange(1, n + 1, dtype=np.int64),
        attr_names=attr_names,
        attr_levels=attr_levels,
        codes=codes,
        identity=identity,
        identity_names=identity_names,
        split=np.array([split_pos[it.split] for it in items], dtype=np.int8),
        seed=np.array([it.seed for it in items], dtype=np.int64),
        faces=np.array([it.faces for it in items], dtype=np.int16),
        prompt=prompt,
        prompts=prompts,
        ids=[it.id for it in items],
        guidance=[it.guidance_scale for it in items],
    )


def _level_order(spec: DatasetSpec, name: str, present: list[str]) -> list[str]:
    f = spec.factor(name)
    if f is not None:
        names = f.level_names()
        return names + [lv for lv in present if lv not in names]
    return present


def summarize(spec: DatasetSpec, cols: PlanColumns, seed: int) -> dict[str, Any]:
    """Plain-data summary (JSON-ready): the tables `facetory plan` prints and `--json` emits."""
    n_classes = len(cols.class_names)
    class_counts = np.bincount(cols.class_index, minlength=n_classes)
    per_class: dict[str, dict[str, dict[str, int]]] = {}
    splits: dict[str, dict[str, int]] = {}
    faces: dict[str, dict[str, int]] = {}
    identities: dict[str, int] = {}
    lo, hi = spec.faces_range()
    for ci, cname in enumerate(cols.class_names):
        rows = cols.class_index == ci
        table: dict[str, dict[str, int]] = {}
        sub = cols.codes[rows]
        for a, attr in enumerate(cols.attr_names):
            levels = cols.attr_levels[a]
            counts = np.bincount(sub[:, a][sub[:, a] >= 0], minlength=len(levels))
            present = [levels[i] for i in range(len(levels)) if counts[i]]
            if spec.factor(attr) is None and not present:
                continue
            order = _level_order(spec, attr, present)
            pos = {lv: i for i, lv in enumerate(levels)}
            table[attr] = {lv: int(counts[pos[lv]]) if lv in pos else 0 for lv in order}
        per_class[cname] = table
        sc = np.bincount(cols.split[rows], minlength=3)
        splits[cname] = {s: int(sc[i]) for i, s in enumerate(SPLITS)}
        if hi > lo:
            fc = Counter(cols.faces[rows].tolist())
            faces[cname] = {str(k): fc.get(k, 0) for k in range(lo, hi + 1)}
        if spec.identities is not None:
            identities[cname] = int(np.unique(cols.identity[rows & (cols.identity >= 0)]).size)
    out: dict[str, Any] = {
        "name": spec.name,
        "task": spec.task,
        "seed": seed,
        "total": int(class_counts.sum()),
        "classes": {c: int(class_counts[i]) for i, c in enumerate(cols.class_names)},
        "per_class": per_class,
        "splits": splits,
    }
    if faces:
        out["faces"] = faces
    if spec.identities is not None:
        out["identities"] = identities
        out["images_per_identity"] = spec.identities.images_per_identity
    return out


@dataclass
class _Column:
    """One balanced column of a class: level codes (-1: unknown), target shares, and whether
    it is counted per image or per person (identity-level factors and the split)."""

    name: str
    codes: np.ndarray
    shares: np.ndarray | None
    per_person: bool = False


def _class_columns(spec: DatasetSpec, cols: PlanColumns, ci: int) -> tuple[list[_Column], int]:
    cspec = spec.classes[ci]
    rows = np.flatnonzero(cols.class_index == ci)
    identity = spec.identities is not None
    split_shares = spec.splits.shares()
    out = [
        _Column(
            "split",
            cols.split[rows].astype(np.int64),
            np.array([split_shares[s] for s in SPLITS]),
            identity,
        )
    ]
    attr_pos = {n: i for i, n in enumerate(cols.attr_names)}
    for f in spec.factors:
        if f.name in cspec.attributes or len(f.levels) < 2 or f.name not in attr_pos:
            continue
        a = attr_pos[f.name]
        fpos = {lv: i for i, lv in enumerate(f.level_names())}
        # column code -> factor level index; the extra last entry maps "absent" (-1) to -1
        remap = np.array([fpos.get(lv, -1) for lv in cols.attr_levels[a]] + [-1], dtype=np.int64)
        targets = f.targets()
        out.append(
            _Column(
                f.name,
                remap[cols.codes[rows, a]],
                np.array([targets[lv] for lv in f.level_names()]),
                identity and f.scope == "identity",
            )
        )
    lo, hi = spec.faces_range()
    if hi > lo:
        out.append(
            _Column(
                "faces",
                (cols.faces[rows] - lo).astype(np.int64),
                np.full(hi - lo + 1, 1.0 / (hi - lo + 1)),
            )
        )
    if identity:
        ident = cols.identity[rows]
        _, local = np.unique(ident, return_inverse=True)
        out.append(_Column("identity", local.astype(np.int64).ravel(), None, False))
    return out, len(rows)


def _pair_deviation(a: np.ndarray, b: np.ndarray) -> float:
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    if not a.size:
        return 0.0
    la, lb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * lb + b, minlength=la * lb).reshape(la, lb)
    expected = np.outer(table.sum(1), table.sum(0)) / a.size
    return float(np.abs(table - expected).max(initial=0.0))


def balance_report(spec: DatasetSpec, cols: PlanColumns) -> dict[str, Any]:
    """Deviation of the plan from its targets, per class.

    marginal: |count - n x share| for every level of every balanced factor and the split;
    pairwise: |count - n_a x n_b / n| for every pair of levels of two columns that no
    constraint ties together. In identity datasets, identity-level factors and the split are
    counted in people (they are fixed per person); everything else in images, including
    each person's own images (the `identity` column).
    """
    tied: set[frozenset[str]] = set()
    for con in spec.rules():
        names = set(con.when) | set(con.forbid)
        tied |= {frozenset((a, b)) for a in names for b in names if a != b}
    per_class: dict[str, dict[str, float]] = {}
    worst_m = worst_p = 0.0
    for ci, cname in enumerate(cols.class_names):
        columns, n = _class_columns(spec, cols, ci)
        first = None
        if spec.identities is not None:
            ident = next(c for c in columns if c.name == "identity").codes
            _, first = np.unique(ident, return_index=True)
        marg = pair = 0.0
        for k, col in enumerate(columns):
            codes = col.codes[first] if col.per_person and first is not None else col.codes
            if col.shares is not None:
                counts = np.bincount(codes[codes >= 0], minlength=len(col.shares))
                marg = max(marg, float(np.abs(counts - codes.size * col.shares).max(initial=0)))
            for other in columns[:k]:
                if frozenset((col.name, other.name)) in tied:
                    continue
                if col.per_person and other.per_person and first is not None:
                    pair = max(pair, _pair_deviation(col.codes[first], other.codes[first]))
                elif not (col.name == "identity" and other.per_person) and not (
                    other.name == "identity" and col.per_person
                ):
                    pair = max(pair, _pair_deviation(col.codes, other.codes))
        per_class[cname] = {"marginal": round(marg, 4), "pairwise": round(pair, 4)}
        worst_m, worst_p = max(worst_m, marg), max(worst_p, pair)
    return {"marginal": round(worst_m, 4), "pairwise": round(worst_p, 4), "per_class": per_class}
