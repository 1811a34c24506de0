"""The emulated Codex model catalog (what ``GET /backend-api/codex/models`` serves).

This is the one place to update when the real backend's model set changes. It mirrors the
backend as of Nov 2026 (reference §12): the gpt-5.6 family defaults to ``low`` effort and
hides ``ultra``; gpt-5.2 / gpt-5.3-codex and the gpt-5/5.1 generation are retired for
ChatGPT accounts, so the backend rejects them with "not supported" and never lists them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

__all__ = [
    "API_ONLY_MODELS",
    "CATALOG",
    "DEFAULT_RETIRED",
    "EFFORT_DESCRIPTIONS",
    "api_model_ids",
    "catalog_etag",
    "model_infos",
    "parse_version",
]

EFFORT_DESCRIPTIONS: dict[str, str] = {
    "none": "No reasoning; fastest responses",
    "minimal": "Very little reasoning",
    "low": "Fast responses with lighter reasoning",
    "medium": "Balances speed and reasoning depth for everyday tasks",
    "high": "Greater reasoning depth for complex problems",
    "xhigh": "Extra high reasoning depth for complex problems",
    "max": "Maximum reasoning depth for the hardest problems",
}

_GPT56 = ["low", "medium", "high", "xhigh", "max"]
_GENERAL = ["none", "low", "medium", "high", "xhigh"]
_CODEX = ["low", "medium", "high", "xhigh"]


def _model(
    slug: str,
    display_name: str,
    efforts: list[str],
    default: str,
    priority: int,
    *,
    context_window: int = 272000,
    max_context_window: int | None = None,
    description: str = "",
    visibility: str = "list",
    text_only: bool = False,
    minimal_client_version: str | None = "0.124.0",
    supported_in_api: bool = True,
    service_tiers: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "display_name": display_name,
        "description": description or f"{display_name} for coding with a ChatGPT plan",
        "default_reasoning_level": default,
        "supported_reasoning_levels": [{"effort": e, "description": EFFORT_DESCRIPTIONS[e]} for e in efforts],
        "shell_type": "shell_command",
        "visibility": visibility,
        "supported_in_api": supported_in_api,
        "priority": priority,
        "upgrade": None,
        "base_instructions": "You are Codex, a coding agent based on GPT-5. You and the user share the same workspace.",
        "supports_reasoning_summaries": True,
        "default_reasoning_summary": "auto",
        "reasoning_summary_format": "experimental",
        "support_verbosity": True,
        "default_verbosity": "medium",
        "apply_patch_tool_type": "freeform",
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "supports_parallel_tool_calls": True,
        "context_window": context_window,
        "max_context_window": max_context_window or context_window,
        "auto_compact_token_limit": int(context_window * 0.9),
        "effective_context_window_percent": 95,
        "experimental_supported_tools": [],
        "input_modalities": ["text"] if text_only else ["text", "image"],
        "minimal_client_version": minimal_client_version,
        "service_tiers": service_tiers if service_tiers is not None else [],
        "prefer_websockets": False,
        "web_search_tool_type": "text",
        "availability_nux": None,
        "use_responses_lite": False,
    }


#: Every model the emulated backend knows, keyed by slug (listed, hidden and retired).
CATALOG: dict[str, dict[str, Any]] = {
    m["slug"]: m
    for m in [
        _model("gpt-5.6-sol", "GPT-5.6 Sol", _GPT56, "low", 1, context_window=372000,
               minimal_client_version="0.142.0", service_tiers=["priority"],
               description="Latest frontier agentic coding model"),
        _model("gpt-5.6-terra", "GPT-5.6 Terra", _GPT56, "medium", 2, context_window=372000,
               minimal_client_version="0.142.0", description="Balanced gpt-5.6 model for everyday coding"),
        _model("gpt-5.6-luna", "GPT-5.6 Luna", _GPT56, "medium", 3,
               minimal_client_version="0.142.0", description="Fast, efficient gpt-5.6 model"),
        # Efforts and windows as Codex's own models.json lists them (no "none" for 5.4/5.5).
        _model("gpt-5.5", "GPT-5.5", _CODEX, "medium", 4, max_context_window=400000),
        _model("gpt-5.4", "GPT-5.4", _CODEX, "medium", 5),
        _model("gpt-5.4-mini", "GPT-5.4 Mini", _CODEX, "medium", 6),
        _model("gpt-5.3-codex-spark", "GPT-5.3 Codex Spark", _CODEX, "medium", 7, context_window=128000,
               text_only=True, supported_in_api=False, description="Ultra-fast text-only coding model"),
        _model("gpt-5.2-codex", "GPT-5.2 Codex", _CODEX, "medium", 8, minimal_client_version=None),
        _model("gpt-5.1-codex-max", "GPT-5.1 Codex Max", _CODEX, "medium", 9, minimal_client_version=None),
        _model("gpt-5.1-codex-mini", "GPT-5.1 Codex Mini", ["medium", "high"], "medium", 10,
               minimal_client_version=None),
        # Hidden: usable, but clients should not offer it in pickers.
        _model("codex-auto-review", "Codex Auto Review", ["low", "medium", "high"], "medium", 90,
               visibility="hide", description="Internal review model"),
        # Retired for ChatGPT accounts (see DEFAULT_RETIRED); kept so /v1 knows them.
        _model("gpt-5.3-codex", "GPT-5.3 Codex", _CODEX, "medium", 50),
        _model("gpt-5.2", "GPT-5.2", _GENERAL, "medium", 51),
        _model("gpt-5.1-codex", "GPT-5.1 Codex", ["low", "medium", "high"], "medium", 52),
        _model("gpt-5.1", "GPT-5.1", ["none", "low", "medium", "high"], "medium", 53),
        _model("gpt-5-codex", "GPT-5 Codex", ["low", "medium", "high"], "medium", 54),
        _model("gpt-5", "GPT-5", ["minimal", "low", "medium", "high"], "medium", 55),
    ]
}

#: Slugs the backend rejects as "not supported when using Codex with a ChatGPT account".
DEFAULT_RETIRED: tuple[str, ...] = ("gpt-5.2", "gpt-5.3-codex", "gpt-5", "gpt-5-codex", "gpt-5.1", "gpt-5.1-codex")

#: Extra models served only by the OpenAI-compatible ``/v1`` API (API-key mode).
API_ONLY_MODELS: tuple[str, ...] = ("gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini")


def parse_version(text: str | None) -> tuple[int, ...]:
    """Parse ``"0.146.0"`` into ``(0, 146, 0)``; junk parts count as 0 so bad input never crashes."""
    if not text:
        return (0,)
    parts: list[int] = []
    for piece in text.strip().split("."):
        digits = "".join(ch for ch in piece.split("-")[0] if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def model_infos(allowed: list[str], client_version: str | None) -> list[dict[str, Any]]:
    """Return the ModelInfo list for ``allowed`` slugs, gated by ``minimal_client_version``."""
    have = parse_version(client_version)
    out = []
    for slug in allowed:
        info = CATALOG.get(slug)
        if info is None:
            continue
        need = info["minimal_client_version"]
        if need and parse_version(need) > have:
            continue
        out.append(info)
    return sorted(out, key=lambda m: m["priority"])


def catalog_etag(allowed: list[str]) -> str:
    """Return a stable quoted ETag for an account's model set (also sent as ``x-models-etag``)."""
    return _etag(tuple(sorted(allowed)))


@functools.lru_cache(maxsize=64)
def _etag(slugs: tuple[str, ...]) -> str:
    # Cached: every backend reply carries x-models-etag, and hashing the catalog is not free.
    blob = json.dumps([CATALOG[s] for s in slugs if s in CATALOG], sort_keys=True)
    return '"' + hashlib.sha256(blob.encode()).hexdigest()[:20] + '"'


def api_model_ids() -> list[str]:
    """Return every model id the ``/v1`` API accepts."""
    return [*CATALOG, *API_ONLY_MODELS]
