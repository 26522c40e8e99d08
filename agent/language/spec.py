"""The dataset specification: what a person asked for, as a validated pydantic model.

Everything downstream (planner, generators, critic thresholds, budget) reads this model.
A spec comes from plain language (`agent.language.parse`) or is written directly as YAML
(`DatasetSpec.from_yaml`). Every rule that can be checked without planning is checked here,
so a bad request fails before anything is written, with one line that names the field.

Regenerate `specs/schema.json` with `python -m agent.language.spec specs/schema.json`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from agent.language.adults import adult_rules, minors_problem
from agent.language.factors import Factor, Label, SpecModel, check_factor_name
from tools.config import (
    IMAGE_SIZE,
    MAX_FACES_PER_IMAGE,
    MIN_IMAGE_SIZE,
    Executor,
    GenerationConfig,
    QualityConfig,
    TrainingConfig,
)
from tools.errors import FacetoryError
from tools.vocabulary import FACTORS

MAX_IMAGES = 10_000_000
_SLUG_BAD = re.compile(r"[^a-z0-9]+")
#: The typed blocks of spec.yaml that say how to build (defined in `tools.config`, which the
#: tools read): the names the spec has always used for them.
Quality = QualityConfig
Generation = GenerationConfig
Training = TrainingConfig


class SpecError(FacetoryError):
    """A spec that cannot be built; the message is one line meant for the user."""


def slugify(text: str) -> str:
    """A directory-safe slug: lowercase ascii letters, digits and single underscores."""
    slug = _SLUG_BAD.sub("_", text.lower()).strip("_")
    return slug or "class"


class ClassSpec(SpecModel):
    """One target class: its label (any text), a directory-safe slug, quota and fixed levels."""

    name: Label
    description: str = Field(default="", max_length=500)
    quota: int = Field(ge=1, le=MAX_IMAGES)
    attributes: dict[str, str] = Field(default_factory=dict)
    """Levels fixed for every image of the class, e.g. {"eyewear": "glasses"}."""

    @property
    def slug(self) -> str:
        return slugify(self.name)


class Constraint(SpecModel):
    """A conditional constraint: when every `when` level holds, none of `forbid` may.

    "no sunglasses with eyes closed":
    `when={"eyes": "closed"}, forbid={"eyewear": ["sunglasses"]}`.
    """

    when: dict[str, str] = Field(min_length=1)
    forbid: dict[str, list[str]] = Field(min_length=1)

    def allows(self, attributes: dict[str, str]) -> bool:
        if any(attributes.get(f) != lv for f, lv in self.when.items()):
            return True
        return not any(attributes.get(f) in lvs for f, lvs in self.forbid.items())

    def describe(self) -> str:
        when = " and ".join(f"{f}={lv}" for f, lv in self.when.items())
        forbid = " nor ".join(f"{f}={' or '.join(lvs)}" for f, lvs in self.forbid.items())
        return f"when {when}, not {forbid}"

    def conjunctions(self) -> list[dict[str, str]]:
        """The forbidden combinations, one per forbidden level (factor -> level each)."""
        out = []
        for fac, levels in self.forbid.items():
            for level in levels:
                combo = dict(self.when)
                if fac in combo and combo[fac] != level:
                    continue  # can never hold together
                combo[fac] = level
                out.append(combo)
        return out


class Identities(SpecModel):
    """Identity datasets: `count` synthetic people with `images_per_identity` images each."""

    count: int = Field(ge=1, le=MAX_IMAGES)
    images_per_identity: int = Field(ge=1, le=10_000)


class Budget(SpecModel):
    """How many generation attempts the build may spend, as a multiple of the target."""

    max_attempts_factor: float = Field(default=3.0, ge=1.0, le=100.0)
    batch_size: int = Field(default=32, ge=1, le=4096)


#: The validation share taken from train when a request splits its images without naming one
#: ('80/20 train/test'): training chooses its model on validation images.
DEFAULT_VAL_SHARE = 0.1


class Splits(SpecModel):
    train: float = Field(default=0.8, ge=0.0, le=1.0)
    val: float = Field(default=0.1, ge=0.0, le=1.0)
    test: float = Field(default=0.1, ge=0.0, le=1.0)
    val_from_train: bool = False
    """True when the request named no validation share and `val` was taken from train; the
    understood line says so. spec.yaml leaves it out while it is false."""

    @model_serializer(mode="wrap")
    def _without_default_note(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if not data.get("val_from_train"):
            data.pop("val_from_train", None)
        return data

    @model_validator(mode="after")
    def _sum(self) -> Splits:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split ratios add up to {total:g}, not 1")
        return self

    def shares(self) -> dict[str, float]:
        return {"train": self.train, "val": self.val, "test": self.test}


class Augmentation(SpecModel):
    """Variants of accepted images with changed attributes (ChildDiffusion's transformations),
    e.g. 1 variant with expression=smile for 20% of the images.

    A variant is drawn from its base image once the base is accepted (img2img on diffusion
    backends, the same person re-rendered on the procedural one), judged against its new
    attributes, counted against its own quota and exported with its parent's id.
    """

    name: Label
    """Names the variants: image ids end in `~<name><k>`, status rows read `<class> ~ <name>`."""
    variants: int = Field(default=1, ge=1, le=100)
    """Variants drawn from each chosen base image."""
    attributes: dict[str, str] = Field(default_factory=dict)
    """The levels a variant changes to, e.g. {"expression": "smile"}."""
    prompt: str = Field(default="", max_length=1000)
    """Words added to the base prompt for img2img (default: a phrase per changed attribute)."""
    strength: float = Field(default=0.5, gt=0.0, le=1.0)
    """img2img strength: 0.3 keeps face and layout, 0.8 allows large changes."""
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    """Share of each class's planned images that get variants, spread evenly over the plan."""


class DatasetSpec(SpecModel):
    """A complete, validated description of a synthetic face dataset."""

    name: Label = "dataset"
    subject: Label = "faces"
    task: Literal["detect", "classify"] = "detect"
    classes: list[ClassSpec]
    factors: list[Factor] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    identities: Identities | None = None
    faces_per_image: int | tuple[int, int] = 1
    image_size: int = Field(default=IMAGE_SIZE, ge=MIN_IMAGE_SIZE, le=4096)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    budget: Budget = Field(default_factory=Budget)
    splits: Splits = Field(default_factory=Splits)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    augmentations: list[Augmentation] = Field(default_factory=list)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    executor: Executor = "local"
    """Where judging (and diffusion generation, on GPUs) runs: `local`, a pool of processes
    here (`--workers`), or `ray`, actors on a Ray cluster (`--address`; `pip install
    'facetory[ray]'`). It never changes the dataset, so it is a preference, not a recorded
    setting: `--executor` overrides it for one run and is not written here, a resume may use
    another; spec.yaml leaves it out while it is `local`, the dataset card always."""

    @model_serializer(mode="wrap")
    def _without_local_executor(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`executor: local` is not written: spec.yaml reads as it did before Ray."""
        data = handler(self)
        if data.get("executor") == "local":
            del data["executor"]
        return data

    @field_validator("classes")
    @classmethod
    def _classes(cls, classes: list[ClassSpec]) -> list[ClassSpec]:
        if not classes:
            raise ValueError("a spec needs at least one class")
        names = [c.name for c in classes]
        if len(set(names)) != len(names):
            raise ValueError(f"a class is listed twice: {names}")
        slugs = [c.slug for c in classes]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"class names collide once made directory-safe: {slugs}")
        return classes

    @field_validator("image_size", mode="before")
    @classmethod
    def _image_size(cls, value: Any) -> Any:
        """Say why a small size is refused (the bound itself is in the schema)."""
        if isinstance(value, int) and not isinstance(value, bool) and value < MIN_IMAGE_SIZE:
            raise ValueError(
                f"{value} px is too small: the critic cannot judge faces in images under "
                f"{MIN_IMAGE_SIZE} px (too few pixels for landmarks); ask for "
                f"{MIN_IMAGE_SIZE} px or more")
        return value

    @field_validator("faces_per_image")
    @classmethod
    def _faces(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        low, high = (value, value) if isinstance(value, int) else value
        if not 1 <= low <= high <= MAX_FACES_PER_IMAGE:
            raise ValueError(
                f"faces per image must be between 1 and {MAX_FACES_PER_IMAGE}, got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        total = self.total
        if total > MAX_IMAGES:
            raise ValueError(f"{total:,} images is over the limit of {MAX_IMAGES:,}")
        names = [f.name for f in self.factors]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"factor {', '.join(twice)} is listed twice")
        self._check_age()
        known = {f.name: set(f.level_names()) for f in self.factors}
        self._check_class_levels(known)
        self._check_constraint_levels(known)
        if problem := minors_problem(self):
            raise ValueError(problem)
        for aug in self.augmentations:
            for fac, lv in aug.attributes.items():
                if fac in FACTORS and lv not in FACTORS[fac]:
                    raise ValueError(
                        f"augmentation '{aug.name}' asks for {fac}={lv}; known levels: "
                        f"{', '.join(FACTORS[fac])}"
                    )
        self._check_identities()
        self._check_collage_classes()
        return self

    def _check_collage_classes(self) -> None:
        """Refused when the spec is read, not an hour later when training starts."""
        asked = self.training.augment.collage_classes or []
        unknown = sorted(set(asked) - {c.name for c in self.classes})
        if unknown:
            raise ValueError(
                f"training.augment.collage_classes names {', '.join(unknown)}, not a class of "
                f"the spec ({', '.join(c.name for c in self.classes)})"
            )

    def _check_class_levels(self, known: dict[str, set[str]]) -> None:
        """Each class fixes known levels, and none the age range contradicts."""
        derived = self.derived_levels()
        for c in self.classes:
            for fac, lv in c.attributes.items():
                check_factor_name(fac)
                if fac in known and lv not in known[fac]:
                    raise ValueError(f"class '{c.name}' fixes {fac}={lv}, not a level of {fac}")
                if fac not in known and fac in FACTORS and lv not in FACTORS[fac]:
                    raise ValueError(
                        f"class '{c.name}' fixes {fac}={lv}; known levels: "
                        f"{', '.join(FACTORS[fac])}"
                    )
                if fac in derived and derived[fac] != {lv}:
                    raise ValueError(
                        f"class '{c.name}' fixes {fac}={lv}, but the age range gives "
                        f"{', '.join(sorted(derived[fac]))}"
                    )

    def _check_constraint_levels(self, known: dict[str, set[str]]) -> None:
        for con in self.constraints:
            for fac, lv in con.when.items():
                if fac not in known or lv not in known[fac]:
                    raise ValueError(f"constraint '{con.describe()}' names unknown {fac}={lv}")
            for fac, lvs in con.forbid.items():
                bad = [lv for lv in lvs if fac not in known or lv not in known[fac]]
                if bad:
                    raise ValueError(
                        f"constraint '{con.describe()}' names unknown {fac}={', '.join(bad)}"
                    )

    def _check_age(self) -> None:
        age = self.factor("age")
        if age is not None and age.numeric is not None and self.factor("age_group") is not None:
            raise ValueError(
                "give either a numeric age range or age groups, not both (the age range "
                "already sets each image's age group)"
            )

    def _check_identities(self) -> None:
        scoped = [f.name for f in self.factors if f.scope == "identity"]
        if self.identities is None:
            if scoped:
                raise ValueError(
                    f"factor {', '.join(scoped)} is per identity, but the spec has no identities"
                )
            return
        per = self.identities.images_per_identity
        people = self.identities.count * per
        if people != self.total:
            raise ValueError(
                f"{self.identities.count} identities x {per} images = {people}, "
                f"but the class quotas add up to {self.total}"
            )
        for c in self.classes:
            if c.quota % per:
                raise ValueError(
                    f"class '{c.name}' quota {c.quota} is not a multiple of {per} images "
                    "per identity"
                )

    @property
    def total(self) -> int:
        return sum(c.quota for c in self.classes)

    def rules(self) -> list[Constraint]:
        """The constraints the plan honours: the person's, then the vocabulary's (levels drawn
        on adults only stay off minor age groups, `agent.language.adults`)."""
        built_in = [Constraint(when=w, forbid=f) for w, f in adult_rules(self)]
        return [*self.constraints, *(c for c in built_in if c not in self.constraints)]

    def factor(self, name: str) -> Factor | None:
        return next((f for f in self.factors if f.name == name), None)

    def class_spec(self, name: str) -> ClassSpec | None:
        return next((c for c in self.classes if c.name == name), None)

    def faces_range(self) -> tuple[int, int]:
        fpi = self.faces_per_image
        return (fpi, fpi) if isinstance(fpi, int) else (fpi[0], fpi[1])

    def derived_levels(self) -> dict[str, set[str]]:
        """Attribute -> the levels that factors can imply for it (e.g. age -> age_group)."""
        out: dict[str, set[str]] = {}
        for f in self.factors:
            for implied in f.derived().values():
                for attr, level in implied.items():
                    out.setdefault(attr, set()).add(level)
        return out

    def attribute_names(self) -> list[str]:
        """Every attribute a plan item of this spec can carry, in display order."""
        names = [f.name for f in self.factors]
        for attr in self.derived_levels():
            if attr not in names:
                names.append(attr)
        for c in self.classes:
            for attr in c.attributes:
                if attr not in names:
                    names.append(attr)
        return names

    # --- YAML -----------------------------------------------------------------------------
    def to_yaml(self) -> str:
        """The spec as block YAML; leaf mappings on one line so it reads like a form."""
        return dump_yaml(self.model_dump(mode="json"))

    @classmethod
    def from_data(cls, data: Any, where: str = "spec") -> DatasetSpec:
        """Validate loaded YAML/JSON data; errors become one SpecError line naming the field."""
        if not isinstance(data, dict):
            raise SpecError(
                f"{where}: expected a mapping of spec fields, got {type(data).__name__}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise SpecError(f"{where}: {validation_message(exc)}") from None

    @classmethod
    def from_yaml(cls, text: str, where: str = "spec") -> DatasetSpec:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{where}: not valid YAML: {yaml_problem(exc)}") from None
        return cls.from_data(data, where)


def validation_message(exc: ValidationError) -> str:
    """The first pydantic error as `field.path: message` on one line (+ how many more)."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = f"{loc}: {msg}" if loc else msg
    return " ".join(f"{text}{more}".split())


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML syntax error as one line with its line number."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return f"{where}{problem}"


class _Dumper(yaml.SafeDumper):
    """Block YAML whose leaf mappings and short scalar lists are written on one line."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    leaf = all(not isinstance(v, dict | list) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=leaf)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    leaf = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=leaf)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    """Deterministic, readable YAML (insertion order kept, unicode as is, no line wrapping)."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000, indent=2
    )


def schema_json() -> str:
    """The JSON Schema of DatasetSpec as written to `specs/schema.json`."""
    return json.dumps(DatasetSpec.model_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m agent.language.spec specs/schema.json
    from tools.atomic import write_text

    if len(sys.argv) > 1:
        write_text(sys.argv[1], schema_json())
    else:
        sys.stdout.write(schema_json())
