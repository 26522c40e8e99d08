"""The balanced planner: DatasetSpec + seed -> Plan, one PlanItem per image.

Random independent sampling of attributes, the usual script approach, misses every target by
about the square root of its count. This planner instead works on *cells* (distinct attribute
combinations with a count) and adds one column at a time (the engine: `agent.planning.balance`):

1. Each column's level counts per class are fixed first by largest-remainder rounding, so every
   level is within one image of its target share (exactly on target when it divides).
2. The new column is spread over the existing cells by rounding the proportional table
   `cell size x share` with a deficit-tracking greedy that keeps every pair (new column,
   earlier column) close to its expected count. Constraints ("no sunglasses with eyes
   closed") mask cells out; the targets then come from iterative proportional fitting and a
   max-flow check proves the request feasible or names the conflict.
3. A repair pass swaps levels between cells until every pair of columns is within one image
   of its expected count, where the counts allow.

Identity datasets are planned twice: people first (identity-level factors and the split,
so a person never straddles train and test), then each person's images (image-level factors
balanced per person and overall). Everything is seeded from `spec.seed`: the same spec and
seed give the same plan, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.language.spec import DatasetSpec
from agent.planning.balance import ClassContext, Column, Table, balance_best
from agent.planning.diffusion_prompts import build_prompt, class_phrase
from agent.planning.plan import SPLITS, Plan, PlanColumns
from agent.planning.plan_store import INLINE_MAX
from tools.generate import capabilities

# --- from spec to plan ----------------------------------------------------------------------


def _columns_for(spec: DatasetSpec, fixed: dict[str, str], scope: str) -> list[Column]:
    out = []
    for f in spec.factors:
        if f.name in fixed or f.scope != scope:
            continue
        targets = f.targets()
        out.append(
            Column(f.name, f.level_names(), np.array([targets[lv] for lv in f.level_names()]))
        )
    return out


def _split_column(spec: DatasetSpec) -> Column:
    shares = spec.splits.shares()
    return Column("split", list(SPLITS), np.array([shares[s] for s in SPLITS]))


def _faces_column(spec: DatasetSpec) -> Column | None:
    lo, hi = spec.faces_range()
    if hi == lo:
        return None
    levels = [str(k) for k in range(lo, hi + 1)]
    return Column("faces", levels, np.full(len(levels), 1.0 / len(levels)))


def _interleave(sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An order of the expanded cells in which every cell is spread evenly over the sequence,
    so any prefix of the plan (a build stopped early) is itself close to balanced."""
    n = int(sizes.sum())
    cell = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n) - starts[cell]
    key = (rank + rng.random(len(sizes))[cell]) / sizes[cell]
    return np.argsort(np.floor(key * 65535).astype(np.uint16), kind="stable")


def _class_rng(seed: int, ci: int, stage: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(_words(seed, ci, stage)))


def _words(seed: int, ci: int, stage: int) -> list[int]:
    return [seed & (2**63 - 1), ci, stage]


@dataclass
class _ClassPlan:
    """One class planned: its final cells and the order in which their images are listed."""

    table: Table
    cell_of_item: np.ndarray  # item (in plan order) -> cell
    people: int


def _plan_class(spec: DatasetSpec, ci: int, seed: int) -> _ClassPlan:
    cspec = spec.classes[ci]
    fixed = dict(cspec.attributes)
    ctx = ClassContext(spec, cspec.name, fixed)
    faces = _faces_column(spec)
    image_cols = ([faces] if faces else []) + _columns_for(spec, fixed, "image")
    if spec.identities is None:
        table = Table([], [], np.zeros((1, 0), dtype=np.int64), np.array([cspec.quota]))
        table = balance_best(table, [_split_column(spec), *image_cols], ctx, _words(seed, ci, 0))
        cell = np.repeat(np.arange(len(table.sizes)), table.sizes)
        return _ClassPlan(table, cell[_interleave(table.sizes, _class_rng(seed, ci, 1))], 0)
    per = spec.identities.images_per_identity
    people = cspec.quota // per
    id_cols = [_split_column(spec), *_columns_for(spec, fixed, "identity")]
    table = Table([], [], np.zeros((1, 0), dtype=np.int64), np.array([people]))
    table = balance_best(table, id_cols, ctx, _words(seed, ci, 0))
    persons = np.repeat(table.codes, table.sizes, axis=0)[
        _interleave(table.sizes, _class_rng(seed, ci, 1))
    ]
    ident = np.arange(people, dtype=np.int64)[:, None]
    table = Table(
        ["identity", *table.names],
        [people, *table.sizes_l],
        np.column_stack([ident, persons]),
        np.full(people, per, dtype=np.int64),
    )
    table = balance_best(table, image_cols, ctx, _words(seed, ci, 2))
    cell = np.repeat(np.arange(len(table.sizes)), table.sizes)
    within = _interleave(table.sizes, _class_rng(seed, ci, 3))
    rank = np.empty(len(within), dtype=np.int64)
    rank[within] = np.arange(len(within))
    order = np.lexsort((rank, table.codes[cell, 0]))
    return _ClassPlan(table, cell[order], people)


def _mix31(x: np.ndarray) -> np.ndarray:
    """A bijection of [0, 2^31) that scrambles consecutive numbers (per-item seeds)."""
    mask = np.uint64(0x7FFFFFFF)
    x = x.astype(np.uint64) & mask
    for mult in (0x2C1B3C6D, 0x297A2D39):
        x ^= x >> np.uint64(16)
        x = (x * np.uint64(mult)) & mask
    x ^= x >> np.uint64(15)
    return x


def _class_base(seed: int, slug: str) -> int:
    h = np.random.SeedSequence([seed & (2**63 - 1), *slug.encode()]).generate_state(1)[0]
    return int(h) & 0x7FFFFFFF


class _Attributes:
    """Attribute names and level lists of a spec, and cell codes -> attribute codes."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self.names = spec.attribute_names()
        self.levels: list[list[str]] = []
        derived_levels = spec.derived_levels()
        for name in self.names:
            f = spec.factor(name)
            levels = f.level_names() if f is not None else []
            for c in spec.classes:
                lv = c.attributes.get(name)
                if lv is not None and lv not in levels:
                    levels.append(lv)
            levels += [lv for lv in sorted(derived_levels.get(name, ())) if lv not in levels]
            self.levels.append(levels)
        self.pos = {n: i for i, n in enumerate(self.names)}
        self.level_pos = [{lv: i for i, lv in enumerate(levels)} for levels in self.levels]
        self.derived = {f.name: f.derived() for f in spec.factors if f.derived()}

    def of_cells(self, cspec, table: Table) -> np.ndarray:
        """(cells, attributes) level codes for one class's final cells (-1: absent)."""
        pos = {name: i for i, name in enumerate(table.names)}
        attr = np.full((len(table.sizes), len(self.names)), -1, dtype=np.int32)
        for fac, lv in cspec.attributes.items():
            attr[:, self.pos[fac]] = self.level_pos[self.pos[fac]][lv]
        for f in self.spec.factors:
            if f.name not in cspec.attributes:
                attr[:, self.pos[f.name]] = table.codes[:, pos[f.name]] if f.name in pos else 0
        for fname, implied in self.derived.items():
            src = attr[:, self.pos[fname]]
            for lv_name, extra in implied.items():
                rows = src == self.level_pos[self.pos[fname]][lv_name]
                for dattr, dlv in extra.items():
                    attr[rows, self.pos[dattr]] = self.level_pos[self.pos[dattr]][dlv]
        return attr

    def as_dict(self, row: list[int]) -> dict[str, str]:
        return {
            name: self.levels[a][code]
            for a, (name, code) in enumerate(zip(self.names, row, strict=True))
            if code >= 0
        }


def make_plan(spec: DatasetSpec, seed: int | None = None) -> Plan:
    """Plan every image of `spec` (seed: `spec.seed` unless given)."""
    return _make_plan(spec, spec.seed if seed is None else seed)


def _make_plan(spec: DatasetSpec, seed: int) -> Plan:
    attrs = _Attributes(spec)
    lo, _ = spec.faces_range()
    width_id = max(4, len(str(spec.identities.count if spec.identities else 0)))
    prompt_keys: dict[tuple, int] = {}
    parts = []
    ident_offset = 0
    identity_names: list[str] = []
    for ci, cspec in enumerate(spec.classes):
        planned = _plan_class(spec, ci, seed)
        table, item_cell = planned.table, planned.cell_of_item
        pos = {name: i for i, name in enumerate(table.names)}
        cell_attr = attrs.of_cells(cspec, table)
        cell_faces = (
            table.codes[:, pos["faces"]] + lo if "faces" in pos else np.full(len(table.sizes), lo)
        )
        cell_prompt = np.array(
            [
                prompt_keys.setdefault((ci, tuple(row), int(f)), len(prompt_keys))
                for row, f in zip(cell_attr.tolist(), cell_faces.tolist(), strict=True)
            ],
            dtype=np.int32,
        )
        n = len(item_cell)
        ident = np.full(n, -1, dtype=np.int32)
        if planned.people:
            ident = (table.codes[item_cell, pos["identity"]] + ident_offset).astype(np.int32)
            identity_names.extend(
                f"id-{ident_offset + i + 1:0{width_id}d}" for i in range(planned.people)
            )
            ident_offset += planned.people
        number = np.arange(1, n + 1, dtype=np.int64)
        parts.append(
            {
                "class_index": np.full(n, ci, dtype=np.int32),
                "codes": cell_attr[item_cell],
                "identity": ident,
                "split": table.codes[item_cell, pos["split"]].astype(np.int8),
                "faces": cell_faces.astype(np.int16)[item_cell],
                "number": number,
                "seed": _mix31(np.int64(_class_base(seed, cspec.slug)) + number).astype(np.int64),
                "prompt": cell_prompt[item_cell],
            }
        )

    def cat(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])

    keys = list(prompt_keys)

    def prompts() -> list[tuple[str, str]]:
        return [
            build_prompt(
                attrs.as_dict(list(row)),
                style=spec.generation.style,
                faces=faces,
                description=class_phrase(spec.classes[ci]),
            )
            for ci, row, faces in keys
        ]

    columns = PlanColumns(
        class_names=[c.name for c in spec.classes],
        class_slugs=[c.slug for c in spec.classes],
        class_index=cat("class_index"),
        number=cat("number"),
        attr_names=attrs.names,
        attr_levels=attrs.levels,
        codes=cat("codes"),
        identity=cat("identity"),
        identity_names=identity_names,
        split=cat("split"),
        seed=cat("seed"),
        faces=cat("faces"),
        prompt=cat("prompt"),
        prompts=prompts,
        width=max(6, len(str(max(c.quota for c in spec.classes)))),
        # a plan listed line by line says what the renderer varies; a larger one is reviewed
        # by its summary and each image's manifest record says it
        vary=capabilities(spec.generation.backend).draws_levels and spec.total <= INLINE_MAX,
    )
    return Plan.from_columns(spec, seed, columns)
