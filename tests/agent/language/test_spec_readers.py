"""Every field of the spec is read by something: a table names each field's reader, and this
test fails when a field has no entry, a reader does not exist, or its code never reads it.
(`quality:` settings the critic shares reach it by name through `CriticConfig.from_quality`;
their readers are where the critic uses them.)"""

from __future__ import annotations

import importlib
import inspect
import re
import typing

from pydantic import BaseModel

from agent.language.spec import DatasetSpec

#: spec field (dotted path through nested blocks and lists) -> "module:qualname" that reads it.
READERS: dict[str, str] = {
    "name": "agent.runtime.finish_inputs:export_info",
    "subject": "agent.language.safety:spec_text",
    "task": "agent.runtime.nodes.finish:train_build",
    "classes": "agent.planning.planner:_make_plan",
    "classes.name": "agent.runtime.finish_inputs:export_info",
    "classes.description": "agent.planning.planner:_make_plan",
    "classes.quota": "agent.language.spec:DatasetSpec.total",
    "classes.attributes": "agent.planning.variants:_target_class",
    "factors": "agent.runtime.finish_inputs:cell_targets",
    "factors.name": "agent.language.spec:DatasetSpec.factor",
    "factors.levels": "agent.language.factors:Factor.level_names",
    "factors.levels.name": "agent.language.factors:Factor.level_names",
    "factors.levels.proportion": "agent.language.factors:Factor.targets",
    "factors.numeric": "agent.language.factors:Factor.derived",
    "factors.numeric.low": "agent.language.factors:NumericRange.bounds",
    "factors.numeric.high": "agent.language.factors:NumericRange.bounds",
    "factors.numeric.bins": "agent.language.factors:NumericRange.bounds",
    "factors.numeric.edges": "agent.language.factors:NumericRange.bounds",
    "factors.numeric.unit": "agent.cli.plan_tables:_factor_table",
    "factors.balanced": "agent.language.factors:Factor.targets",
    "factors.scope": "agent.cli.plan_tables:_factor_table",
    "constraints": "agent.language.spec:DatasetSpec.rules",
    "constraints.when": "agent.language.spec:Constraint.allows",
    "constraints.forbid": "agent.language.spec:Constraint.allows",
    "identities": "agent.runtime.nodes.dedup:dedup",
    "identities.count": "agent.planning.planner:_make_plan",
    "identities.images_per_identity": "agent.planning.planner:_plan_class",
    "faces_per_image": "agent.language.spec:DatasetSpec.faces_range",
    "image_size": "agent.runtime.context:BuildContext.generator",
    "quality": "agent.runtime.context:BuildContext.critic_config",
    "quality.min_critic_score": "tools.critic.pipeline:_verdict",
    "quality.min_faithfulness": "tools.critic.pipeline:_verdict",
    "quality.duplicate_similarity": "agent.runtime.context:BuildContext.store",
    "quality.duplicate_runner_up_weight": "agent.runtime.context:BuildContext.store",
    "quality.identity_similarity": "agent.runtime.nodes.dedup:identity_gate",
    "quality.cnn_detector": "tools.critic.pipeline:Critic.__init__",
    "quality.attribute_checks": "tools.critic.pipeline:Critic.__init__",
    "quality.landmark_points": "tools.critic.pipeline:Critic.__init__",
    "quality.demographic_checks": "agent.runtime.context:BuildContext.enforce_demographics",
    "quality.vlm": "tools.critic.pipeline:Critic.__init__",
    "quality.vlm.enabled": "tools.critic.pipeline:Critic.__init__",
    "quality.vlm.base_url": "tools.critic.vlm:VlmCritic.__init__",
    "quality.vlm.model": "tools.critic.vlm:VlmCritic",
    "quality.vlm.api_key": "tools.critic.vlm:VlmCritic.__init__",
    "quality.vlm.timeout_s": "tools.critic.vlm:VlmCritic.__init__",
    "quality.vlm.factors": "tools.critic.vlm:VlmCritic",
    "quality.vlm.min_confidence": "tools.critic.vlm:VlmCritic",
    "quality.vlm.image_side": "tools.critic.vlm:VlmCritic",
    "quality.vlm.json_mode": "tools.critic.vlm:VlmCritic",
    "quality.clip": "tools.critic.pipeline:Critic.__init__",
    "quality.clip.model": "tools.critic.clip:ClipCritic.__init__",
    "quality.clip.checkpoint": "tools.critic.clip:ClipCritic.__init__",
    "quality.clip.device": "tools.critic.clip:ClipCritic.__init__",
    "quality.clip.min_clip_score": "tools.critic.clip:ClipCritic.check",
    "quality.clip.probe_factors": "tools.critic.clip:ClipCritic.check",
    "budget": "agent.runtime.nodes.assess:attempt_budget",
    "budget.max_attempts_factor": "agent.runtime.nodes.assess:attempt_budget",
    "budget.batch_size": "agent.runtime.nodes.generate:generate",
    "splits": "agent.planning.planner:_split_column",
    "splits.train": "agent.language.spec:Splits.shares",
    "splits.val": "agent.language.spec:Splits.shares",
    "splits.test": "agent.language.spec:Splits.shares",
    "splits.val_from_train": "agent.language.requirements:understood",
    "generation": "agent.runtime.context:BuildContext.generator",
    "generation.backend": "tools.config:GenerationConfig.backend_config",
    "generation.style": "agent.planning.planner:_make_plan",
    "generation.procedural": "tools.config:GenerationConfig.backend_config",
    "generation.procedural.fault_rate": "tools.generate.procedural:ProceduralGenerator.__init__",
    "generation.procedural.photo_backgrounds":
        "tools.generate.procedural:ProceduralGenerator.__init__",
    "generation.diffusers": "tools.config:GenerationConfig.backend_config",
    "generation.diffusers.model":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.scheduler":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.steps":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.guidance_scale":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.dtype":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.device":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.batch_size":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.channels_last":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.diffusers.torch_compile":
        "tools.generate.diffusers_backend:DiffusersGenerator.__init__",
    "generation.identity": "tools.config:GenerationConfig.backend_config",
    "generation.identity.ip_adapter":
        "tools.generate.diffusers_identity:IdentityConditionedGenerator.__init__",
    "generation.identity.weight_name":
        "tools.generate.diffusers_identity:IdentityConditionedGenerator.__init__",
    "generation.identity.image_encoder":
        "tools.generate.diffusers_identity:IdentityConditionedGenerator.__init__",
    "generation.identity.scale":
        "tools.generate.diffusers_identity:IdentityConditionedGenerator.__init__",
    "generation.identity.strength":
        "tools.generate.diffusers_identity:IdentityConditionedGenerator.__init__",
    "generation.img2img": "tools.config:GenerationConfig.img2img_config",
    "generation.img2img.model": "tools.config:GenerationConfig.img2img_config",
    "generation.img2img.steps": "tools.config:GenerationConfig.img2img_config",
    "augmentations": "agent.planning.variants:plan_variants",
    "augmentations.name": "agent.planning.variants:variants_of",
    "augmentations.variants": "agent.planning.variants:variants_of",
    "augmentations.attributes": "agent.planning.variants:variants_of",
    "augmentations.prompt": "agent.planning.variants:variants_of",
    "augmentations.strength": "agent.planning.variants:variants_of",
    "augmentations.fraction": "agent.planning.variants:plan_variants",
    "training": "agent.runtime.nodes.finish:train",
    "training.model": "agent.runtime.nodes.finish:train",
    "training.weights": "agent.runtime.nodes.finish:train",
    "training.epochs": "agent.runtime.nodes.finish:train",
    "training.imgsz": "agent.runtime.nodes.finish:train",
    "training.real_faces": "agent.runtime.nodes.finish:train",
    "training.augment": "agent.runtime.nodes.finish:train",
    "training.augment.downscale": "tools.outputs.train:augmentations",
    "training.augment.grey": "tools.outputs.train:augmentations",
    "training.augment.blur": "tools.outputs.train:augmentations",
    "training.augment.noise": "tools.outputs.train:augmentations",
    "training.augment.jpeg": "tools.outputs.train:augmentations",
    "training.augment.contrast": "tools.outputs.train:augmentations",
    "training.augment.scale": "tools.outputs.train:augmentations",
    "training.augment.collage": "tools.outputs.train:_with_collages",
    "training.augment.collage_classes": "tools.outputs.train:_with_collages",
    "seed": "agent.planning.planner:_make_plan",
    "executor": "agent.cli.run_commands:_recorded_executor",
}


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def spec_fields(model: type[BaseModel] = DatasetSpec, prefix: str = "") -> list[str]:
    """Every field path of the spec, through nested blocks and lists of blocks."""
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        for nested in _models(field.annotation):
            out += spec_fields(nested, f"{prefix}{name}.")
    return out


def _reader(target: str) -> object:
    module, _, qualname = target.partition(":")
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj.fget if isinstance(obj, property) else obj  # type: ignore[union-attr]


def test_every_spec_field_has_a_reader_in_the_table() -> None:
    fields = spec_fields()
    assert [f for f in fields if f not in READERS] == []
    assert [f for f in READERS if f not in fields] == []  # no entry for a field that is gone


def test_every_named_reader_exists_and_reads_its_field() -> None:
    unread = []
    for path, target in READERS.items():
        reader = _reader(target)
        source = inspect.getsource(getattr(reader, "func", reader))
        leaf = path.rsplit(".", 1)[-1]
        if not re.search(rf"\.{leaf}\b|\b{leaf}=", source):
            unread.append(f"{path}: {target}")
    assert unread == []
