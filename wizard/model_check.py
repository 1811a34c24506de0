"""Is a model string one we can call? Checked before ``kabot setup`` saves it.

A typo such as ``gpt-5.55`` or ``openai-codex/`` would otherwise be saved and only fail on
the first real call. What counts as known:

* ``openai-codex/*`` — the catalog (the bundled snapshot plus the account's live list);
* ``openai/*`` — the catalog, then LiteLLM's own model map (``litellm.model_cost``);
* any other ``provider/model`` — the provider must be one LiteLLM knows; the model part is not
  checked, because providers such as Ollama, OpenRouter or Azure name models freely.

LiteLLM is imported only for models outside the catalog (its import costs seconds).
``--force`` skips the check for models the catalog cannot know (private deployments, a model
released after this version).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from kabot_codex.catalog import all_specs, canonical_model
from kabot_codex.errors import UnknownModelError

__all__ = ["check_models", "known_model"]

_CODEX = "openai-codex"
_OPENAI = "openai"
_FORCE_HINT = "pass --force to save it anyway"


def _catalog_models(provider: str) -> list[str]:
    return [spec.model for spec in all_specs() if spec.provider == provider]


def _litellm_openai_models() -> set[str]:
    import litellm

    models: set[str] = set()
    for name, info in litellm.model_cost.items():
        if isinstance(info, dict) and info.get("litellm_provider") == _OPENAI:
            models.add(f"{_OPENAI}/{name.split('/', 1)[1] if name.startswith(_OPENAI + '/') else name}")
    return models


def _litellm_providers() -> set[str]:
    import litellm

    return {str(getattr(p, "value", p)) for p in litellm.provider_list}


def _closest(word: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)


def _suggest(matches: Sequence[str], see: str) -> str:
    if matches:
        return f"did you mean {' or '.join(matches)}? See {see}, or {_FORCE_HINT}"
    return f"see {see} for the models you can use, or {_FORCE_HINT}"


def known_model(model: str, *, listed: Iterable[str] = ()) -> str:
    """Return ``model`` in its canonical spelling, or raise ``UnknownModelError``.

    ``listed`` adds models the account's live list offered (for ``openai-codex/*``).
    """
    canonical = canonical_model(model)
    provider, _, slug = canonical.partition("/")
    if not slug.strip():
        example = (_catalog_models(provider) or _catalog_models(_CODEX))[0]
        raise UnknownModelError(f"{model!r} names a provider but no model",
                                hint=f"write the whole name, e.g. {example} (see `kabot models`)")
    if provider == _CODEX:
        known = set(_catalog_models(_CODEX)) | {canonical_model(m) for m in listed}
        if canonical in known:
            return canonical
        raise UnknownModelError(f"unknown model {canonical!r}: not in the catalog or your account's model list",
                                hint=_suggest(_closest(canonical, known), "`kabot models`"))
    if provider == _OPENAI:
        if canonical in _catalog_models(_OPENAI):
            return canonical
        known = set(_catalog_models(_OPENAI)) | _litellm_openai_models()
        if canonical in known:
            return canonical
        raise UnknownModelError(f"unknown model {canonical!r}: LiteLLM knows no OpenAI model of that name",
                                hint=_suggest(_closest(canonical, known), "`kabot models`"))
    providers = _litellm_providers() | {_CODEX}
    if provider in providers:
        return canonical
    matches = [f"{p}/{slug}" for p in _closest(provider, providers)]
    raise UnknownModelError(f"unknown provider {provider!r} in {model!r}: LiteLLM has no such provider",
                            hint=_suggest(matches, "https://docs.litellm.ai/docs/providers"))


def check_models(models: Iterable[str], *, listed: Iterable[str] = (), force: bool = False) -> list[str]:
    """Check every model (see the module docstring); with ``force`` only the spelling is canonicalised."""
    listed = list(listed)
    return [canonical_model(m) if force else known_model(m, listed=listed) for m in models]
