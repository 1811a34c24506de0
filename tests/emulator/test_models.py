"""``GET /backend-api/codex/models``: catalog content, client_version gating, ETag/304."""

from __future__ import annotations

from typing import Any

import httpx

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import client

LISTED = ["gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini",
          "gpt-5.3-codex-spark", "gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini"]
RETIRED = {"gpt-5.2", "gpt-5.3-codex", "gpt-5", "gpt-5-codex", "gpt-5.1", "gpt-5.1-codex"}


def get_models(emu: EmulatorControl, http: httpx.Client, tokens: dict[str, Any], version: str | None = "0.146.0",
               **headers: str) -> httpx.Response:
    params = {"client_version": version} if version else {}
    return http.get(emu.codex_base + "/models", params=params, headers={**emu.auth_headers(tokens), **headers})


def test_catalog_content(emu: EmulatorControl) -> None:
    with client() as http:
        r = get_models(emu, http, emu.mint_tokens())
    assert r.status_code == 200
    models = r.json()["models"]
    by_slug = {m["slug"]: m for m in models}
    listed = [m["slug"] for m in models if m["visibility"] == "list"]
    assert listed == LISTED  # sorted by priority
    assert [m["slug"] for m in models if m["visibility"] == "hide"] == ["codex-auto-review"]
    assert not RETIRED & set(by_slug)
    sol = by_slug["gpt-5.6-sol"]
    assert [lv["effort"] for lv in sol["supported_reasoning_levels"]] == ["low", "medium", "high", "xhigh", "max"]
    assert sol["default_reasoning_level"] == "low" and sol["context_window"] == 372000
    assert [lv["effort"] for lv in by_slug["gpt-5.5"]["supported_reasoning_levels"]] == ["low", "medium", "high",
                                                                                       "xhigh"]
    assert by_slug["gpt-5.5"]["context_window"] == 272000
    assert by_slug["gpt-5.5"]["default_reasoning_level"] == "medium"
    assert [lv["effort"] for lv in by_slug["gpt-5.1-codex-mini"]["supported_reasoning_levels"]] == ["medium", "high"]
    spark = by_slug["gpt-5.3-codex-spark"]
    assert spark["input_modalities"] == ["text"] and spark["context_window"] == 128000
    for model in models:
        assert {"slug", "display_name", "description", "default_reasoning_level", "supported_reasoning_levels",
                "visibility", "supported_in_api", "priority", "context_window", "input_modalities",
                "supports_parallel_tool_calls", "supports_reasoning_summaries", "minimal_client_version"} <= set(model)
        assert all(set(lv) == {"effort", "description"} for lv in model["supported_reasoning_levels"])


def test_client_version_gates_models(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        old = [m["slug"] for m in get_models(emu, http, tokens, "0.130.0").json()["models"]]
        ancient = [m["slug"] for m in get_models(emu, http, tokens, "0.100.0").json()["models"]]
        missing = [m["slug"] for m in get_models(emu, http, tokens, None).json()["models"]]
    assert "gpt-5.6-sol" not in old and "gpt-5.5" in old
    assert ancient == ["gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini"]
    assert missing == ancient


def test_etag_and_304(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        first = get_models(emu, http, tokens)
        etag = first.headers["etag"]
        assert etag == first.headers["x-models-etag"]
        r = get_models(emu, http, tokens, **{"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b""
        assert get_models(emu, http, tokens, **{"If-None-Match": "W/" + etag}).status_code == 304
        assert get_models(emu, http, tokens, **{"If-None-Match": '"stale"'}).status_code == 200
        # x-models-etag on model calls matches, so clients know when to refetch.
        from tests.emulator.helpers import post_responses

        assert post_responses(emu, http, tokens).headers["x-models-etag"] == etag
        emu.account(models=["gpt-5.5"])
        changed = get_models(emu, http, tokens, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert [m["slug"] for m in changed.json()["models"]] == ["gpt-5.5"]
    assert changed.headers["etag"] != etag


def test_models_needs_auth(emu: EmulatorControl) -> None:
    with client() as http:
        assert http.get(emu.codex_base + "/models").status_code == 401
    assert emu.stats()["requests"]["codex.models"] == 1
