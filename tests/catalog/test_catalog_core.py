"""The bundled snapshot, lookups, the effort clamp, LiteLLM metadata and status recording."""

from __future__ import annotations

import json
import time

import pytest

from kabot_codex import _fs, catalog
from kabot_codex.catalog import status, store


def test_bundle_lists_current_and_retired_codex_models_and_fallbacks() -> None:
    models = {spec.model for spec in catalog.all_specs()}
    for slug in ("gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini",
                 "gpt-5.3-codex-spark", "gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini"):
        assert f"openai-codex/{slug}" in models
        assert not catalog.get_spec(slug).retired
    for slug in ("gpt-5.3-codex", "gpt-5.2", "gpt-5", "gpt-5-codex", "gpt-5.1", "gpt-5.1-codex"):
        assert catalog.get_spec(slug).retired
    assert {"openai/gpt-5.2-codex", "openai/gpt-4o-mini"} <= models


def test_spec_values_from_the_protocol_reference() -> None:
    sol = catalog.get_spec("openai-codex/gpt-5.6-sol")
    assert sol.efforts == ("low", "medium", "high", "xhigh", "max")
    assert (sol.default_effort, sol.context_window) == ("low", 372000)
    spark = catalog.get_spec("gpt-5.3-codex-spark")
    assert spark.input_modalities == ("text",) and spark.context_window == 128000
    # Codex's own list: no "none" for gpt-5.5, and 272k is the window Codex fills.
    assert catalog.get_spec("gpt-5.5").efforts == ("low", "medium", "high", "xhigh")
    assert catalog.get_spec("gpt-5.5").context_window == 272000
    assert catalog.get_spec("gpt-5.1-codex-mini").efforts == ("medium", "high")
    assert sol.model == "openai-codex/gpt-5.6-sol"


def test_best_codex_model_comes_first() -> None:
    first = catalog.all_specs()[0]
    assert first.model == "openai-codex/gpt-5.6-sol"


@pytest.mark.parametrize("name", ["openai-codex/gpt-5.5", "openai_codex/gpt-5.5", "gpt-5.5",
                                  "OpenAI-Codex/gpt-5.5"])
def test_get_spec_accepts_every_spelling(name: str) -> None:
    assert catalog.get_spec(name).model == "openai-codex/gpt-5.5"


def test_get_spec_keeps_other_providers_apart() -> None:
    assert catalog.get_spec("openai/gpt-5.2-codex").provider == "openai"
    assert catalog.get_spec("openai-codex/gpt-5.2-codex").provider == "openai-codex"
    assert catalog.get_spec("openai-codex/no-such-model") is None


def test_get_spec_is_cheap_after_first_load() -> None:
    catalog.get_spec("gpt-5.5")
    start = time.perf_counter()
    for _ in range(20000):
        catalog.get_spec("openai-codex/gpt-5.5")
    assert (time.perf_counter() - start) / 20000 < 20e-6


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        ("gpt-5.5", None, None),
        ("gpt-5.5", "high", "high"),
        ("gpt-5.5", "minimal", "low"),
        ("gpt-5.2-codex", "none", "low"),
        ("gpt-5.1-codex-mini", "low", "medium"),
        ("gpt-5.1-codex-mini", "xhigh", "high"),
        ("gpt-5.3-codex-spark", "max", "xhigh"),
        ("gpt-5.6-sol", "ultra", "max"),
        ("gpt-5.6-sol", "none", "low"),
        ("gpt-5.5", "XHIGH", "xhigh"),
        ("gpt-5.5", "turbo", "medium"),  # not an effort at all: the model's default
        ("openai/gpt-4o-mini", "high", None),  # no reasoning knob
        ("openai-codex/some-future-model", "high", "high"),  # unknown: the backend decides
    ],
)
def test_clamp_effort(model: str, effort: str | None, expected: str | None) -> None:
    assert catalog.clamp_effort(model, effort) == expected


def test_litellm_metadata_covers_codex_models_only() -> None:
    meta = catalog.litellm_model_metadata()
    assert "openai-codex/gpt-5.5" in meta and not any(k.startswith("openai/") for k in meta)
    entry = meta["openai-codex/gpt-5.5"]
    assert entry["litellm_provider"] == "openai-codex"
    assert entry["mode"] == "chat"
    assert entry["max_input_tokens"] == 272000 and entry["max_output_tokens"] == 128000
    assert entry["input_cost_per_token"] == entry["output_cost_per_token"] == 0.0
    assert entry["supports_reasoning"] and entry["supports_vision"]
    assert not meta["openai-codex/gpt-5.3-codex-spark"]["supports_vision"]


def test_metadata_registers_with_litellm() -> None:
    import litellm

    litellm.register_model(catalog.litellm_model_metadata())
    info = litellm.get_model_info("openai-codex/gpt-5.6-sol")
    assert info["max_input_tokens"] == 372000
    assert info["mode"] == "chat"


def test_statuses_from_catalog() -> None:
    assert catalog.get_model_status("openai-codex/gpt-5.5") == "catalog"
    assert catalog.get_model_status("openai/gpt-4o-mini") == "catalog"
    assert catalog.get_model_status("anthropic/claude-x") == "unknown"
    assert catalog.get_model_status("") == "unknown"


def test_a_model_retired_for_chatgpt_depends_on_what_is_known_of_the_account() -> None:
    # No login: the account type is unknown, and gpt-5.3-codex still works with an API key.
    status, reason = catalog.model_status("openai-codex/gpt-5.3-codex")
    assert status == "catalog" and "retired for ChatGPT" in reason and "API key" in reason
    assert catalog.get_model_status("openai-codex/gpt-5.3-codex", None) == "catalog"
    # A ChatGPT account: unsupported, and the reason says why.
    status, reason = catalog.model_status("openai-codex/gpt-5.3-codex", None, auth_mode="chatgpt")
    assert status == "unsupported" and "retired for ChatGPT" in reason
    assert catalog.get_model_status("openai-codex/gpt-5.3-codex", "acct-z") == "unsupported"
    # An API key: usable.
    assert catalog.model_status("openai-codex/gpt-5.3-codex", "key-1", auth_mode="api_key")[0] == "catalog"


def test_auth_mode_changes_what_is_unsupported() -> None:
    # A model retired for ChatGPT accounts may still be served to an API key, and a
    # ChatGPT-only model is unusable with one.
    assert catalog.get_model_status("gpt-5.3-codex", auth_mode="api_key") == "catalog"
    assert catalog.get_model_status("gpt-5.3-codex-spark", auth_mode="api_key") == "unsupported"


def test_recorded_outcomes_win_and_are_per_account() -> None:
    catalog.note_success("openai-codex/gpt-5.5", "acct-a")
    catalog.note_unsupported("gpt-5.4", "acct-a", "The 'gpt-5.4' model is not supported")
    assert catalog.get_model_status("gpt-5.5", "acct-a") == "working"
    assert catalog.get_model_status("gpt-5.4", "acct-a") == "unsupported"
    assert catalog.get_model_status("gpt-5.5", "acct-b") == "catalog"
    # A later success overrides an earlier rejection (e.g. plan upgraded).
    catalog.note_success("gpt-5.4", "acct-a")
    assert catalog.get_model_status("gpt-5.4", "acct-a") == "working"


def test_records_persist_and_survive_a_new_process_view() -> None:
    catalog.note_unsupported("gpt-5.5", "acct-a", "not supported")
    _fs.wait_for_writes()  # recorded in memory at once, written in the background
    path = status.status_path()
    saved = json.loads(path.read_text())
    assert saved["acct-a"]["openai-codex/gpt-5.5"]["status"] == "unsupported"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    status.forget_statuses()
    assert catalog.get_model_status("gpt-5.5", "acct-a") == "unsupported"


def test_repeated_success_does_not_write(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog.note_success("gpt-5.5", "acct-a")
    writes: list[object] = []
    monkeypatch.setattr(status, "_persist", lambda *a: writes.append(a))
    for _ in range(100):
        catalog.note_success("gpt-5.5", "acct-a")
    assert writes == []


def test_recording_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(status, "_persist", boom)
    catalog.note_success("gpt-5.5", "acct-z")  # must not raise
    catalog.note_unsupported("gpt-5.5", "acct-z", "x")


def test_live_cache_merges_over_the_bundle() -> None:
    cache = {"accounts": {"acct-a": {"fetched_at": time.time(), "etag": "W/1", "models": [
        {"slug": "gpt-5.5", "display_name": "GPT-5.5 (live)", "context_window": 500000,
         "supported_reasoning_levels": [{"effort": "low"}, {"effort": "high"}],
         "default_reasoning_level": "low", "visibility": "list", "priority": 3},
        {"slug": "gpt-5.7-nova", "display_name": "GPT-5.7 Nova", "context_window": 300000,
         "supported_reasoning_levels": [{"effort": "medium"}, {"effort": "ultra"}],
         "visibility": "list", "priority": 0},
        {"slug": "gpt-5.3-codex", "visibility": "list", "priority": 9},
    ]}}}
    path = store.live_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cache))
    catalog.reload()
    spec = catalog.get_spec("gpt-5.5")
    assert (spec.display_name, spec.context_window, spec.efforts, spec.source) == (
        "GPT-5.5 (live)", 500000, ("low", "high"), "live")
    assert spec.max_output_tokens == 128000  # not in ModelInfo: bundled value kept
    nova = catalog.get_spec("gpt-5.7-nova")
    assert nova.efforts == ("medium",)  # "ultra" is hidden, like Codex does
    assert catalog.clamp_effort("gpt-5.5", "medium") == "high"
    assert "openai-codex/gpt-5.7-nova" in catalog.litellm_model_metadata()
    # Listed live for this account, so no longer treated as retired for it.
    assert catalog.get_model_status("gpt-5.3-codex", "acct-a") == "catalog"
    assert catalog.get_model_status("gpt-5.3-codex", "acct-b") == "unsupported"


def test_damaged_live_cache_falls_back_to_bundle() -> None:
    path = store.live_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    catalog.reload()
    assert catalog.get_spec("gpt-5.5").source == "bundled"
    # A cache we own: set aside for a look (never deleted), so the next fetch rebuilds it.
    kept = list(path.parent.glob("models_cache.json.corrupt-*"))
    assert not path.exists() and len(kept) == 1 and kept[0].read_text() == "{not json"


def test_current_account_matches_the_provider_for_a_linked_codex_login(emu, tmp_path):
    # A linked login keeps its tokens in the Codex CLI's auth.json, not in our config; the
    # catalog must file statuses under the same account the provider uses.
    import json

    from kabot_codex.auth.credentials import resolve_source
    from kabot_codex.auth.login import run_login
    from kabot_codex.catalog.account import current_account

    tokens = emu.mint_tokens(ttl=3600)
    codex_file = tmp_path / "codex" / "auth.json"
    codex_file.parent.mkdir()
    codex_file.write_text(json.dumps({"OPENAI_API_KEY": None, "last_refresh": "2026-11-22T00:00:00Z", "tokens": {
        "id_token": tokens["id_token"], "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"], "account_id": tokens["account_id"]}}))
    run_login("codex", path=str(codex_file))
    account = current_account()
    assert account.account_key is not None and account.auth_mode == "chatgpt"
    assert account.account_key == resolve_source().get().account_key


def test_canonical_model_only_rewrites_prefixes_the_registry_knows():
    from kabot_codex.catalog import canonical_model

    assert canonical_model("gpt-5.5") == "openai-codex/gpt-5.5"
    assert canonical_model("openai_codex/gpt-5.5") == "openai-codex/gpt-5.5"
    assert canonical_model("OpenAI-Codex/gpt-5.5") == "openai-codex/gpt-5.5"
    assert canonical_model("openai/gpt-4o-mini") == "openai/gpt-4o-mini"
    assert canonical_model("vertex_ai/gemini-1.5-pro") == "vertex_ai/gemini-1.5-pro"
    assert canonical_model("together_ai/meta-llama/Llama-3") == "together_ai/meta-llama/Llama-3"


def test_bundle_matches_the_live_list_and_live_data_wins() -> None:
    from kabot_codex.catalog.spec import spec_from_model_info
    from kabot_codex.catalog.store import bundled_specs
    from kabot_codex.emulator.model_catalog import CATALOG, DEFAULT_RETIRED

    bundled = {s.slug: s for s in bundled_specs() if s.provider == "openai-codex"}
    for slug, info in CATALOG.items():
        if slug not in bundled or slug in DEFAULT_RETIRED:
            continue
        live = spec_from_model_info(info, bundled[slug])
        assert (live.efforts, live.default_effort, live.context_window, live.input_limit) == (
            bundled[slug].efforts, bundled[slug].default_effort, bundled[slug].context_window,
            bundled[slug].input_limit), slug
    # A live answer that differs replaces the bundled values (never the other way round).
    changed = dict(CATALOG["gpt-5.5"], context_window=300000, max_context_window=400000,
                   default_reasoning_level="high",
                   supported_reasoning_levels=[{"effort": "none"}, {"effort": "high"}])
    live = spec_from_model_info(changed, bundled["gpt-5.5"])
    assert (live.context_window, live.input_limit, live.efforts, live.default_effort, live.source) == (
        300000, 300000, ("none", "high"), "high", "live")
