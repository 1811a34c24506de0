"""Provider registry: explicit prefixes win, keywords second, names normalised."""

from __future__ import annotations

import pytest

from kabot_codex.errors import UnknownProviderError
from kabot_codex.registry import PROVIDERS, find_by_model, find_by_name, get_by_name, resolve_model


def test_codex_entry_matches_the_plan():
    spec = find_by_name("openai-codex")
    assert spec is not None and spec is find_by_name("openai_codex") is find_by_name("OpenAI-Codex")
    assert (spec.keywords, spec.env_key, spec.display_name, spec.litellm_prefix, spec.skip_prefixes) == (
        ("openai-codex",),
        "OPENAI_CODEX_API_KEY",
        "OpenAI Codex",
        "openai-codex",
        ("openai-codex/",),
    )
    assert find_by_name("openai") is not None
    assert [s.name for s in PROVIDERS].index("openai-codex") < [s.name for s in PROVIDERS].index("openai")


@pytest.mark.parametrize(
    "model,provider",
    [
        ("openai-codex/gpt-5.3-codex", "openai-codex"),
        ("openai_codex/gpt-5.5", "openai-codex"),
        ("openai/gpt-5.2-codex", "openai"),
        ("openai/gpt-4o-mini", "openai"),
        ("gpt-4o-mini", "openai"),
        ("anthropic/claude-opus-4-6", "anthropic"),
        ("claude-sonnet", "anthropic"),
    ],
)
def test_find_by_model(model, provider):
    assert find_by_model(model).name == provider


def test_unknown_model_and_name():
    assert find_by_model("mystery-model") is None
    assert find_by_name("nope") is None
    with pytest.raises(UnknownProviderError) as info:
        get_by_name("nope")
    assert "openai-codex" in str(info.value)


@pytest.mark.parametrize(
    "model,resolved",
    [
        ("openai-codex/gpt-5.5", "openai-codex/gpt-5.5"),
        ("openai_codex/gpt-5.5", "openai-codex/gpt-5.5"),
        ("gpt-4o-mini", "openai/gpt-4o-mini"),
        ("openai/gpt-5.2-codex", "openai/gpt-5.2-codex"),
        ("mystery", "mystery"),
    ],
)
def test_resolve_model(model, resolved):
    assert resolve_model(model) == resolved
