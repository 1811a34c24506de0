"""What one model is: ``ModelSpec``, model-name normalisation and the reasoning-effort clamp.

Pure: no I/O. The store (``kabot_codex.catalog.store``) builds specs from the bundled
snapshot and the live ``/models`` cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "CODEX",
    "EFFORT_ORDER",
    "OPENAI",
    "ModelSpec",
    "canonical_model",
    "clamp_to",
    "spec_from_bundle",
    "spec_from_model_info",
]

CODEX = "openai-codex"
OPENAI = "openai"

#: Every reasoning effort the Codex backend has used, cheapest first. Clamping moves a requested
#: effort to the nearest one a model lists, by position in this order.
EFFORT_ORDER: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")
_RANK = {effort: i for i, effort in enumerate(EFFORT_ORDER)}


@dataclass(frozen=True)
class ModelSpec:
    """One model as the catalog knows it (bundled snapshot, possibly updated from ``/models``)."""

    slug: str
    provider: str  # "openai-codex" | "openai"
    display_name: str
    context_window: int
    max_output_tokens: int
    efforts: tuple[str, ...] = ()  # empty: the model has no reasoning knob
    default_effort: str | None = None
    input_modalities: tuple[str, ...] = ("text",)
    supports_parallel_tool_calls: bool = True
    supports_reasoning_summaries: bool = True
    priority: int = 1000  # lower = better / earlier in lists
    retired: bool = False  # retired for ChatGPT accounts
    retired_note: str = ""
    supported_in_api: bool = True  # usable with an OpenAI API key (not only a ChatGPT login)
    max_input_tokens: int | None = None  # None: the whole context window
    description: str = ""
    unverified: tuple[str, ...] = field(default=(), compare=False)  # guessed fields (see models.json)
    source: str = "bundled"  # "bundled" | "live"

    @property
    def model(self) -> str:
        """The LiteLLM model string, ``provider/slug``."""
        return f"{self.provider}/{self.slug}"

    @property
    def input_limit(self) -> int:
        """Tokens the prompt may use."""
        return self.max_input_tokens or self.context_window

    @property
    def supports_vision(self) -> bool:
        """Whether the model accepts images."""
        return "image" in self.input_modalities

    def clamp(self, effort: str | None) -> str | None:
        """Return ``effort`` moved to the nearest effort this model supports."""
        return clamp_to(self.efforts, effort, default=self.default_effort)


def canonical_model(model: str) -> str:
    """Return ``provider/slug`` for ``model``; a bare slug means ``openai-codex``.

    ``openai_codex/x`` and ``OpenAI-Codex/x`` become ``openai-codex/x`` (the registry's spelling);
    prefixes the registry does not know are LiteLLM's business and stay exactly as written
    (``vertex_ai/...`` must not become ``vertex-ai/...``).
    """
    from kabot_codex.registry import find_by_name

    model = model.strip()
    if "/" not in model:
        return f"{CODEX}/{model}"
    prefix, slug = model.split("/", 1)
    spec = find_by_name(prefix)
    return f"{spec.litellm_prefix}/{slug}" if spec and spec.litellm_prefix else model


def clamp_to(efforts: tuple[str, ...], effort: str | None, *, default: str | None = None) -> str | None:
    """Move ``effort`` to the nearest entry of ``efforts`` (ties go to the stronger one).

    Ties go up so ``minimal`` becomes ``low`` rather than ``none`` (which switches reasoning
    off) on models that list both, matching what Codex clients do for gpt-5.2+.

    ``None`` stays ``None`` (the backend uses its default); a model without efforts gets ``None``
    (it has no knob to send). An effort name outside ``EFFORT_ORDER`` falls back to the model's
    default because the backend would reject it.
    """
    if effort is None or not efforts:
        return None
    wanted = effort.strip().lower()
    if wanted in efforts:
        return wanted
    rank = _RANK.get(wanted)
    ranked = [e for e in efforts if e in _RANK]
    if rank is None or not ranked:
        return default if default in efforts else efforts[0]
    # min() keeps the first of equal distances, and ``ranked`` is sorted strongest first.
    ranked.sort(key=_RANK.__getitem__, reverse=True)
    return min(ranked, key=lambda e: abs(_RANK[e] - rank))


def _tuple(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(str(v) for v in value)


def spec_from_bundle(entry: Mapping[str, Any]) -> ModelSpec:
    """Build a spec from one ``models.json`` entry."""
    return ModelSpec(
        slug=str(entry["slug"]),
        provider=str(entry.get("provider", CODEX)),
        display_name=str(entry.get("display_name") or entry["slug"]),
        context_window=int(entry["context_window"]),
        max_output_tokens=int(entry.get("max_output_tokens", 128000)),
        efforts=_tuple(entry.get("efforts")),
        default_effort=entry.get("default_effort"),
        input_modalities=_tuple(entry.get("input_modalities")) or ("text",),
        supports_parallel_tool_calls=bool(entry.get("supports_parallel_tool_calls", True)),
        supports_reasoning_summaries=bool(entry.get("supports_reasoning_summaries", True)),
        priority=int(entry.get("priority", 1000)),
        retired=bool(entry.get("retired", False)),
        retired_note=str(entry.get("retired_note", "")),
        supported_in_api=bool(entry.get("supported_in_api", True)),
        max_input_tokens=entry.get("max_input_tokens"),
        description=str(entry.get("description", "")),
        unverified=_tuple(entry.get("unverified")),
    )


def spec_from_model_info(info: Mapping[str, Any], base: ModelSpec | None = None) -> ModelSpec:
    """Build an ``openai-codex`` spec from a live ``ModelInfo`` object, over ``base`` if known.

    Fields the backend does not send (output cap) keep the bundled value. ``retired`` is kept
    too: whether a retired model is still offered is per account, answered by the listing.
    """
    efforts = tuple(
        str(level["effort"] if isinstance(level, Mapping) else level)
        for level in info.get("supported_reasoning_levels") or ()
        # Codex hides "ultra" from clients (codex-protocol §12.2); do the same.
        if (level["effort"] if isinstance(level, Mapping) else level) != "ultra"
    )
    if base is None:
        base = ModelSpec(slug=str(info["slug"]), provider=CODEX, display_name=str(info["slug"]),
                         context_window=272000, max_output_tokens=128000,
                         unverified=("max_output_tokens",))
    # ``context_window`` is the window Codex fills (prompt + history), so it is the model's
    # window here too; ``max_context_window`` (newer backends, e.g. 400k for gpt-5.5) is the
    # model's theoretical maximum, which the ChatGPT backend does not let a client fill.
    window = int(info.get("context_window") or 0) or None
    return replace(
        base,
        display_name=str(info.get("display_name") or base.display_name),
        description=str(info.get("description") or base.description),
        context_window=window or base.context_window,
        max_input_tokens=None if window else base.max_input_tokens,
        efforts=efforts or base.efforts,
        default_effort=info.get("default_reasoning_level") or base.default_effort,
        input_modalities=_tuple(info.get("input_modalities")) or base.input_modalities,
        supports_parallel_tool_calls=bool(
            info.get("supports_parallel_tool_calls", base.supports_parallel_tool_calls)),
        supports_reasoning_summaries=bool(
            info.get("supports_reasoning_summaries", base.supports_reasoning_summaries)),
        supported_in_api=bool(info.get("supported_in_api", base.supported_in_api)),
        priority=int(info.get("priority", base.priority)),
        source="live",
    )
