"""Command-line options that change what a build produces are written into its spec.yaml.

`facetory plan|run|build --backend diffusers --epochs 5 ...` does not set a value for one
process: it records it in the build's spec (and in plan.yaml's `spec:` block, so a later
review keeps it), where every later run, the dataset card and the approval see it. A build
that has started generating refuses an option that contradicts what it recorded, with one
line saying how to change it on purpose; before it starts, a changed spec needs a new
approval, like an edited plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from agent.language.spec import DatasetSpec, SpecError, validation_message

#: CLI option (as `facetory` spells it, without dashes) -> the spec field it sets.
OPTION_FIELDS: dict[str, tuple[str, ...]] = {
    "backend": ("generation", "backend"),
    "model": ("generation", "diffusers", "model"),
    "ip-adapter": ("generation", "identity", "ip_adapter"),
    "vlm-url": ("quality", "vlm", "base_url"),
    "vlm-model": ("quality", "vlm", "model"),
    "clip-checkpoint": ("quality", "clip", "checkpoint"),
    "train-model": ("training", "model"),
    "weights": ("training", "weights"),
    "epochs": ("training", "epochs"),
    "imgsz": ("training", "imgsz"),
    "real-faces": ("training", "real_faces"),
}


#: Options that may name a local file or directory: recorded as an absolute path when they do,
#: so a later run from another working directory finds the same thing.
PATH_OPTIONS = ("model", "ip-adapter", "clip-checkpoint", "weights", "train-model", "real-faces")


class Change(NamedTuple):
    """One option that changes a recorded setting."""

    option: str
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new} (--{self.option})"


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


def with_options(
    spec: DatasetSpec, options: dict[str, Any]
) -> tuple[DatasetSpec, list[Change]]:
    """The spec with the given options (None: not given) written in, and what changed.
    A value the spec cannot take is one SpecError line."""
    data = spec.model_dump(mode="json")
    before = spec.model_dump(mode="json")
    changes = []
    for option, value in options.items():
        if value is None:
            continue
        path = OPTION_FIELDS[option]
        if option in PATH_OPTIONS and Path(str(value)).expanduser().exists():
            value = str(Path(str(value)).expanduser().resolve())
        value = str(value) if isinstance(value, Path) else value
        old = _get(before, path)
        if old != value:
            _set(data, path, value)
            changes.append(Change(option, ".".join(path), old, value))
    if not changes:
        return spec, []
    try:
        return DatasetSpec.model_validate(data), changes
    except ValidationError as exc:
        raise SpecError(f"command-line options: {validation_message(exc)}") from None


def started(root: Path) -> bool:
    """True once the build has generated an image (its record is in the manifest)."""
    db = root / "manifest.sqlite"
    if not db.exists():
        return False
    from tools.stores.manifest import Manifest

    manifest = Manifest(db)
    try:
        return manifest.attempts() > 0
    finally:
        manifest.close()


def record_options(root: Path, options: dict[str, Any]) -> list[Change]:
    """Write the options into DIR/spec.yaml (and plan.yaml's spec block); what changed.

    A started build refuses a contradicting option; a plan edited by hand since its review
    must be reviewed first (its spec block would otherwise be overwritten unchecked).
    """
    from agent.planning.plan import Plan
    from agent.planning.plan_file import read_plan, read_spec, write_plan, write_spec
    from agent.planning.plan_review import review_plan

    spec_path = root / "spec.yaml"
    if not any(v is not None for v in options.values()) or not spec_path.exists():
        return []
    spec, changes = with_options(read_spec(spec_path), options)
    if not changes:
        return []
    if started(root):
        c = changes[0]
        raise SpecError(
            f"{root} was started with {c.field}={c.old} (spec.yaml) and --{c.option} {c.new} "
            f"contradicts it; to change it on purpose, edit {c.field} under spec: in "
            f"{root / 'plan.yaml'}, then `facetory review {root}` and `facetory approve {root}`"
        )
    plan_path = root / "plan.yaml"
    if plan_path.exists():
        if review_plan(root, commit=False).changed:
            raise SpecError(
                f"{plan_path} was edited since it was last reviewed: run `facetory review "
                f"{root}` before changing settings from the command line"
            )
        plan = read_plan(plan_path)
        write_spec(spec, spec_path)
        write_plan(Plan(spec=spec, seed=plan.seed, items=list(plan.items)), plan_path)
    else:
        write_spec(spec, spec_path)
    return changes
