"""The critic: judges every generated image from its pixels against its plan item."""

from tools.critic.pipeline import Assessment, Critic, CriticConfig

__all__ = ["Assessment", "Critic", "CriticConfig"]
