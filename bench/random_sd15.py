"""An SD-1.5-sized Stable Diffusion pipeline with random weights, built offline for
bench/bench_gpu.py: the real model's shapes (so its FLOPs), none of its weights.

The configs are stable-diffusion-v1-5's own (UNet 859.5M, VAE 83.7M, CLIP text encoder 123.1M
parameters: the counts `parameter_counts` reads back match the published model's). The
tokenizer is the tiny byte-level one of the tests (tests/tools/tiny_sd.py): the pipeline pads
every prompt to 77 tokens, so the text encoder does the same work as with CLIP's vocabulary.
"""

from __future__ import annotations

from pathlib import Path

#: stable-diffusion-v1-5's unet/config.json (sizes that set the FLOPs).
SD15_UNET = {
    "sample_size": 64, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                         "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                       "CrossAttnUpBlock2D"),
    "cross_attention_dim": 768, "attention_head_dim": 8, "norm_num_groups": 32,
    "norm_eps": 1e-5, "act_fn": "silu", "downsample_padding": 1, "flip_sin_to_cos": True,
    "freq_shift": 0, "mid_block_scale_factor": 1, "center_input_sample": False,
}
#: its vae/config.json
SD15_VAE = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 2,
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
    "norm_num_groups": 32, "act_fn": "silu", "sample_size": 512, "scaling_factor": 0.18215,
}
#: its text_encoder/config.json (CLIP ViT-L/14's text tower), less the token ids
SD15_TEXT = {
    "vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072,
    "num_attention_heads": 12, "num_hidden_layers": 12, "max_position_embeddings": 77,
    "hidden_act": "quick_gelu", "projection_dim": 768,
}

def build_sd15(path: Path, device: str) -> Path:
    """Save an SD-1.5-sized pipeline with random weights (fp16 on disk) under `path`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from tests.tools.tiny_sd import byte_level_vocab
    from tools.generate.diffusers_backend import quiet

    quiet()  # no progress bars; no warning about casting random weights to fp16
    torch.manual_seed(0)
    vocab = byte_level_vocab()
    with torch.device(device):
        unet = UNet2DConditionModel(**SD15_UNET)
        vae = AutoencoderKL(**SD15_VAE)
        text_encoder = CLIPTextModel(CLIPTextConfig(
            **SD15_TEXT, bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"],
        ))
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, unet=unet,
        tokenizer=CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77),
        # the scheduler stable-diffusion-v1-5 ships
        scheduler=PNDMScheduler(beta_start=0.00085, beta_end=0.012,
                                beta_schedule="scaled_linear", num_train_timesteps=1000,
                                set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.to(torch.float16).save_pretrained(path)
    return path


def parameter_counts(model: Path) -> dict[str, float]:
    """Millions of parameters per module of the saved pipeline (read from its safetensors)."""
    import math

    from safetensors import safe_open

    counts = {}
    for name in ("unet", "vae", "text_encoder"):
        total = 0
        for file in sorted((model / name).glob("*.safetensors")):
            with safe_open(file, "pt") as f:
                total += sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())  # noqa: SIM118
        counts[name] = total / 1e6
    return counts
