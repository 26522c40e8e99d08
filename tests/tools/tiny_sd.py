"""A tiny random-weight Stable Diffusion pipeline, built offline for tests.

Real checkpoints are gigabytes and need the network; this one is a few hundred kilobytes and
is saved with `save_pretrained`, so tests drive exactly the loading code users run against a
real model directory. Reused by identity-conditioned generation tests.
"""

from __future__ import annotations

from pathlib import Path

TEXT_DIM = 32


def byte_level_vocab() -> dict[str, int]:
    """A CLIP vocabulary of single byte-level characters (each also as a word end `</w>`)."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return {token: i for i, token in enumerate(tokens)}


def build_tiny_sd(path: Path, *, seed: int = 0) -> Path:
    """Save a tiny Stable Diffusion pipeline (UNet, VAE, CLIP text encoder) under `path`.

    Images are 8x the latent size divided by 4 (the VAE halves once): 64 px images have
    32 px latents. Returns `path`.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    path = Path(path)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        # attention only at the coarser level keeps CPU runs fast
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=32,
        sample_size=64,
        mid_block_add_attention=False,
    )
    vocab = byte_level_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=TEXT_DIM,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=77,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
            projection_dim=TEXT_DIM,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    return path


def tiny_sd_once(base: Path) -> Path:
    """`build_tiny_sd` under `base/tiny_sd`, reusing it if this session already built it."""
    path = Path(base) / "tiny_sd"
    if not (path / "model_index.json").is_file():
        build_tiny_sd(path)
    return path
