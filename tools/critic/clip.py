"""Optional CLIP critic via open_clip and a local checkpoint (nothing is downloaded).

CLIPScore (Hessel et al. 2021: 2.5 * max(cos, 0)) measures how well the image matches the
prompt; zero-shot probes pick the most likely level of a factor from prompts such as
"a photo of a person wearing sunglasses". open_clip is optional (a test extra, pinned in
pyproject.toml): install `open-clip-torch` and set `quality.clip.checkpoint` (or
`--clip-checkpoint`) to a local weights file to use it.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from tools.config import ClipConfig
from tools.contracts import CheckResult, PlanItem
from tools.errors import FacetoryError
from tools.vocabulary import FACTORS, VOCABULARY

#: Prompt templates of the zero-shot probes, per factor (`probe:` in factors.yaml); `{}` is
#: the level (underscores read as spaces).
PROBES: dict[str, str] = {f: v.probe for f, v in VOCABULARY.items() if v.probe}


def available() -> bool:
    """True if open_clip can be imported."""
    return importlib.util.find_spec("open_clip") is not None


class ClipCritic:
    """CLIPScore and zero-shot attribute probes with one loaded open_clip model."""

    def __init__(self, config: ClipConfig) -> None:
        if not available():
            raise FacetoryError(
                "the CLIP critic needs open_clip: pip install open_clip_torch "
                "(and a local checkpoint file)"
            )
        if not config.checkpoint.is_file():
            raise FacetoryError(f"CLIP checkpoint not found: {config.checkpoint}")
        unknown = set(config.probe_factors) - set(PROBES)
        if unknown:
            raise FacetoryError(f"no CLIP probe for {', '.join(sorted(unknown))}")
        import open_clip
        import torch

        self.config = config
        self._torch = torch
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                config.model, pretrained=str(config.checkpoint), device=config.device
            )
        except Exception as exc:  # open_clip raises several types for a bad file or name
            raise FacetoryError(
                f"cannot load CLIP model {config.model} from {config.checkpoint}: {exc}"
            ) from exc
        self._model = model.eval()
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(config.model)

    def _image_features(self, rgb: np.ndarray):
        from PIL import Image

        tensor = self._preprocess(Image.fromarray(rgb)).unsqueeze(0).to(self.config.device)
        with self._torch.no_grad():
            features = self._model.encode_image(tensor)
        return features / features.norm(dim=-1, keepdim=True)

    def _text_features(self, texts: list[str]):
        tokens = self._tokenizer(texts).to(self.config.device)
        with self._torch.no_grad():
            features = self._model.encode_text(tokens)
        return features / features.norm(dim=-1, keepdim=True)

    def clip_score(self, rgb: np.ndarray, text: str) -> float:
        """CLIPScore of the image against `text`: 2.5 * max(cosine, 0)."""
        cosine = float((self._image_features(rgb) @ self._text_features([text]).T).item())
        return 2.5 * max(cosine, 0.0)

    def probe(self, rgb: np.ndarray, factor: str, levels: tuple[str, ...]) -> str:
        """The level of `factor` whose probe prompt is nearest to the image."""
        template = PROBES[factor]
        texts = [template.format(level.replace("_", " ")) for level in levels]
        sims = (self._image_features(rgb) @ self._text_features(texts).T)[0]
        return levels[int(sims.argmax().item())]

    def check(self, rgb: np.ndarray, item: PlanItem) -> list[CheckResult]:
        """CLIPScore against the prompt and one check per probed, requested factor."""
        checks: list[CheckResult] = []
        if item.prompt:
            score = self.clip_score(rgb, item.prompt)
            limit = self.config.min_clip_score
            passed = limit is None or score >= limit
            checks.append(CheckResult(
                name="clip_score", score=min(score / 2.5 * 2.0, 1.0), passed=passed,
                reason=None if passed else "prompt_mismatch",
                detail=f"CLIPScore {score:.3f}" + (f" (min {limit})" if limit is not None else ""),
            ))
        for factor in sorted(self.config.probe_factors & set(item.attributes)):
            levels = FACTORS.get(factor)
            wanted = item.attributes[factor]
            if not levels or wanted not in levels:
                continue
            got = self.probe(rgb, factor, levels)
            ok = got == wanted
            checks.append(CheckResult(
                name=f"attribute:{factor}", score=1.0 if ok else 0.0, passed=ok,
                reason=None if ok else f"attribute_mismatch:{factor}",
                detail=f"clip: requested {wanted}, probe says {got}",
            ))
        return checks
