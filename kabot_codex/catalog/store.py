"""The loaded catalog: bundled snapshot with the live ``/models`` cache merged over it.

Loaded once per process and kept in memory, because the provider looks a model up on every
request. ``reload()`` drops the in-memory copy (after a refresh, or in tests).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.catalog.spec import (
    CODEX,
    ModelSpec,
    canonical_model,
    spec_from_bundle,
    spec_from_model_info,
)
from kabot_codex.config import state_dir

__all__ = [
    "Catalog",
    "all_specs",
    "bundled_specs",
    "catalog",
    "get_spec",
    "live_cache_path",
    "read_live_cache",
    "reload",
]


def live_cache_path() -> Path:
    """Where the live ``/models`` result is cached (per account, with ETag)."""
    return state_dir() / "models_cache.json"


@dataclass
class Catalog:
    """Every known model by ``provider/slug`` plus what each account's live list contained."""

    specs: dict[str, ModelSpec]
    listed: dict[str, frozenset[str]] = field(default_factory=dict)  # account_key -> model strings
    snapshot: str = ""

    def ordered(self) -> list[ModelSpec]:
        """All specs, best first (codex before openai, then by priority)."""
        return sorted(self.specs.values(), key=lambda s: (s.provider != CODEX, s.priority, s.slug))


_lock = threading.Lock()
_loaded: Catalog | None = None
_bundle_cache: tuple[str, list[ModelSpec]] | None = None


def _load_bundle() -> tuple[str, list[ModelSpec]]:
    global _bundle_cache
    if _bundle_cache is None:
        raw = resources.files("kabot_codex").joinpath("data/models.json").read_text(encoding="utf-8")
        data = json.loads(raw)
        _bundle_cache = (str(data.get("snapshot", "")), [spec_from_bundle(m) for m in data["models"]])
    return _bundle_cache


def bundled_specs() -> list[ModelSpec]:
    """The snapshot shipped with the package, without live data."""
    return list(_load_bundle()[1])


def read_live_cache() -> dict[str, Any]:
    """Return the live cache file's content (``{"accounts": {...}}``); empty if absent or damaged."""
    data = _fs.read_state(live_cache_path(), what="model catalog cache")  # damaged: set aside, rebuilt
    if not isinstance(data.get("accounts"), dict):
        return {}
    return data


def _build() -> Catalog:
    snapshot, bundled = _load_bundle()
    specs = {spec.model: spec for spec in bundled}
    listed: dict[str, frozenset[str]] = {}
    accounts = {key: entry for key, entry in read_live_cache().get("accounts", {}).items()
                if isinstance(entry, dict)}  # a cache someone edited: skip what is not ours

    def fetched_at(item: tuple[str, dict[str, Any]]) -> float:
        when = item[1].get("fetched_at")
        return float(when) if isinstance(when, (int, float)) else 0.0

    # Oldest fetch first so the newest account's view of a model wins.
    for key, entry in sorted(accounts.items(), key=fetched_at):
        models = entry.get("models")
        if not isinstance(models, list):
            continue
        seen: set[str] = set()
        for info in models:
            if not isinstance(info, dict) or not info.get("slug"):
                continue
            try:
                name = f"{CODEX}/{info['slug']}"
                specs[name] = spec_from_model_info(info, specs.get(name))
            except (TypeError, ValueError, KeyError):
                continue  # one malformed entry must not hide the rest
            seen.add(name)
        listed[key] = frozenset(seen)
    return Catalog(specs=specs, listed=listed, snapshot=snapshot)


def catalog() -> Catalog:
    """Return the in-memory catalog, loading it on first use."""
    global _loaded
    current = _loaded
    if current is not None:
        return current
    with _lock:
        if _loaded is None:
            _loaded = _build()
        return _loaded


def reload() -> Catalog:
    """Forget the in-memory catalog and load it again (after a refresh or a KABOT_HOME change)."""
    global _loaded
    with _lock:
        _loaded = None
    return catalog()


def get_spec(model: str) -> ModelSpec | None:
    """Return the spec of ``model`` (``openai-codex/x``, ``openai_codex/x``, bare ``x``, ``openai/x``)."""
    specs = catalog().specs
    spec = specs.get(model)  # fast path: the provider passes canonical names
    if spec is None:
        spec = specs.get(canonical_model(model))
    return spec


def all_specs() -> list[ModelSpec]:
    """Every known model, best first."""
    return catalog().ordered()
