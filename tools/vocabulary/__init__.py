"""The attribute vocabulary every part of facetory agrees on.

The planner balances any factor a spec names, but only the factors listed here are
*understood*: the procedural renderer draws them and the critic can measure some of them.
Keeping the names in one place stops the renderer, critic and parser drifting apart.
"""

from __future__ import annotations

#: Canonical factors and their levels, in display order.
FACTORS: dict[str, tuple[str, ...]] = {
    # Monk Skin Tone scale, lightest (1) to darkest (10).
    "skin_tone": tuple(f"monk_{i}" for i in range(1, 11)),
    # The six age groups of identity-preserving aging (arXiv 2307.08585).
    "age_group": ("child", "teenager", "young_adult", "middle_aged", "elderly", "old"),
    "gender": ("female", "male"),
    "ethnicity": ("african", "asian", "white", "south_asian", "hispanic"),
    "hair_color": ("black", "brown", "blond", "red", "grey", "white"),
    "hair_style": ("short", "long", "curly", "bald", "ponytail"),
    "eye_color": ("brown", "blue", "green", "hazel", "grey"),
    "expression": ("neutral", "smile", "surprise", "sad", "angry", "fear"),
    "eyes": ("open", "closed"),
    "head_pose": ("frontal", "left", "right", "tilted"),
    "eyewear": ("none", "glasses", "sunglasses"),
    "hat": ("none", "hat"),
    "mask": ("none", "mask"),
    "background": ("plain", "gradient", "indoor", "outdoor"),
    "lighting": ("front", "left", "right", "top"),
}

#: Age in years covered by each age group (inclusive low, exclusive high).
AGE_GROUP_YEARS: dict[str, tuple[int, int]] = {
    "child": (0, 15),
    "teenager": (15, 20),
    "young_adult": (20, 40),
    "middle_aged": (40, 50),
    "elderly": (50, 65),
    "old": (65, 120),
}

#: Typical Monk skin-tone range for each ethnicity label (used only to render, never to judge).
ETHNICITY_SKIN_TONES: dict[str, tuple[int, int]] = {
    "african": (7, 10),
    "asian": (2, 5),
    "white": (1, 3),
    "south_asian": (5, 8),
    "hispanic": (3, 6),
}

#: Reason codes of the critic and duplicate check; `attribute_mismatch:<factor>` is open-ended.
REASONS: tuple[str, ...] = (
    "no_face",
    "extra_face",
    "missing_face",
    "face_too_small",
    "face_cut_off",
    "blurry",
    "exposure",
    "low_contrast",
    "noisy",
    "unreadable",
    "too_small_image",
    "attribute_mismatch",
    "duplicate",
    "identity_mismatch",
    "identity_collision",
    "low_score",
    "too_large_image",
    "prompt_mismatch",
)


def is_known_factor(name: str) -> bool:
    """True if `name` is a factor the renderer draws (others only shape the prompt)."""
    return name in FACTORS
