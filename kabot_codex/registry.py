"""Which provider a model string belongs to, and the LiteLLM model string to call it with.

Matching order matters: an explicit ``provider/`` prefix wins before keywords, so
``openai/gpt-5.2-codex`` stays ``openai`` even though it mentions "codex", and
``openai-codex/gpt-5.5`` is ``openai-codex`` even though it mentions "openai" and "gpt".
"""

from __future__ import annotations

from dataclasses import dataclass

from kabot_codex.errors import UnknownProviderError

__all__ = ["PROVIDERS", "ProviderSpec", "find_by_model", "find_by_name", "resolve_model"]


@dataclass(frozen=True)
class ProviderSpec:
    """How one provider is named, detected and addressed through LiteLLM."""

    name: str
    keywords: tuple[str, ...]
    env_key: str
    display_name: str = ""
    litellm_prefix: str = ""
    skip_prefixes: tuple[str, ...] = ()
    is_oauth: bool = False

    @property
    def label(self) -> str:
        """Human-readable name."""
        return self.display_name or self.name.title()


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


PROVIDERS: tuple[ProviderSpec, ...] = (
    # Before ``openai``: keyword matching is first-match-wins and codex model strings
    # contain "openai" and "gpt" too.
    ProviderSpec(
        name="openai-codex",
        keywords=("openai-codex",),
        env_key="OPENAI_CODEX_API_KEY",
        display_name="OpenAI Codex",
        litellm_prefix="openai-codex",
        skip_prefixes=("openai-codex/",),
        is_oauth=True,
    ),
    ProviderSpec(
        name="openai",
        keywords=("openai", "gpt", "o1", "o3", "o4"),
        env_key="OPENAI_API_KEY",
        display_name="OpenAI",
        litellm_prefix="openai",
        skip_prefixes=("openai/",),
    ),
    ProviderSpec(
        name="anthropic",
        keywords=("anthropic", "claude"),
        env_key="ANTHROPIC_API_KEY",
        display_name="Anthropic",
        litellm_prefix="anthropic",
        skip_prefixes=("anthropic/",),
    ),
    ProviderSpec(
        name="gemini",
        keywords=("gemini",),
        env_key="GEMINI_API_KEY",
        display_name="Google Gemini",
        litellm_prefix="gemini",
        skip_prefixes=("gemini/",),
    ),
    ProviderSpec(
        name="openrouter",
        keywords=("openrouter",),
        env_key="OPENROUTER_API_KEY",
        display_name="OpenRouter",
        litellm_prefix="openrouter",
        skip_prefixes=("openrouter/",),
    ),
)

_BY_NAME = {_normalise(spec.name): spec for spec in PROVIDERS}


def find_by_name(name: str) -> ProviderSpec | None:
    """Return the spec named ``name``; ``openai-codex`` and ``openai_codex`` both work."""
    return _BY_NAME.get(_normalise(name))


def get_by_name(name: str) -> ProviderSpec:
    """Like ``find_by_name`` but raise ``UnknownProviderError`` with the known names."""
    spec = find_by_name(name)
    if spec is None:
        known = ", ".join(s.name for s in PROVIDERS)
        raise UnknownProviderError(f"Unknown provider {name!r}", hint=f"use one of: {known}")
    return spec


def find_by_model(model: str) -> ProviderSpec | None:
    """Return the provider of ``model``: explicit ``provider/`` prefix first, then keywords."""
    lowered = model.strip().lower()
    if "/" in lowered:
        spec = find_by_name(lowered.split("/", 1)[0])
        if spec is not None:
            return spec
    for spec in PROVIDERS:
        if any(keyword in lowered for keyword in spec.keywords):
            return spec
    return None


def resolve_model(model: str) -> str:
    """Return the LiteLLM model string for ``model`` (adds the provider prefix when missing)."""
    model = model.strip()
    spec = find_by_model(model)
    if spec is None or not spec.litellm_prefix:
        return model
    if model.lower().startswith(spec.skip_prefixes):
        return model
    if "/" in model and find_by_name(model.split("/", 1)[0]) is spec:
        # Same provider written another way (``openai_codex/x``): canonicalise the prefix.
        model = model.split("/", 1)[1]
    return f"{spec.litellm_prefix}/{model}"
