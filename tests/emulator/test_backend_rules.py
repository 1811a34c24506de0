"""The backend's auth checks and every body rule, with the exact messages clients see."""

from __future__ import annotations

from typing import Any

import pytest

from kabot_codex.emulator import EmulatorControl
from tests.emulator.helpers import body, client, post_responses

USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
CALL = {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_1"}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}
NOT_SUPPORTED = "The '{}' model is not supported when using Codex with a ChatGPT account."

RULES: list[tuple[str, dict[str, Any], str]] = [
    ("store missing", {"store": None}, "Store must be set to false"),
    ("store true", {"store": True}, "Store must be set to false"),
    ("stream missing", {"stream": None}, "Stream must be set to true"),
    ("stream false", {"stream": False}, "Stream must be set to true"),
    ("instructions missing", {"instructions": None}, "Instructions are required"),
    ("instructions blank", {"instructions": "  "}, "Instructions are required"),
    ("input string", {"input": "hello"}, "Input must be a list"),
    ("temperature", {"temperature": 0.2}, "Unsupported parameter: temperature"),
    ("top_p", {"top_p": 0.9}, "Unsupported parameter: top_p"),
    ("max_output_tokens", {"max_output_tokens": 5}, "Unsupported parameter: max_output_tokens"),
    ("max_tokens", {"max_tokens": 5}, "Unsupported parameter: max_tokens"),
    ("max_completion_tokens", {"max_completion_tokens": 5}, "Unsupported parameter: max_completion_tokens"),
    ("metadata", {"metadata": {"a": "b"}}, "Unsupported parameter: metadata"),
    ("previous_response_id", {"previous_response_id": "resp_1"}, "Previous response with id 'resp_1' not found."),
    ("item id", {"input": [{**USER, "id": "msg_1"}]},
     "Item with id 'msg_1' not found. Items are not persisted when `store` is set to false."),
    ("item_reference", {"input": [{"type": "item_reference", "id": "rs_9"}]},
     "Item with id 'rs_9' not found. Items are not persisted when `store` is set to false."),
    ("unknown model", {"model": "gpt-9"}, NOT_SUPPORTED.format("gpt-9")),
    ("retired model", {"model": "gpt-5.2"}, NOT_SUPPORTED.format("gpt-5.2")),
    ("retired codex model", {"model": "gpt-5.3-codex"}, NOT_SUPPORTED.format("gpt-5.3-codex")),
    ("effort not listed", {"model": "gpt-5.1-codex-mini", "reasoning": {"effort": "low"}},
     "Unsupported value: 'low' is not supported with the 'gpt-5.1-codex-mini' model. "
     "Supported values are: 'medium' and 'high'."),
    ("minimal on 5.6", {"model": "gpt-5.6-sol", "reasoning": {"effort": "minimal"}},
     "Unsupported value: 'minimal' is not supported with the 'gpt-5.6-sol' model. "
     "Supported values are: 'low', 'medium', 'high', 'xhigh' and 'max'."),
    ("orphan output", {"input": [USER, OUTPUT]},
     "No tool call found for function call output with call_id call_1."),
    ("call without output", {"input": [USER, CALL, USER]}, "No tool output found for function call call_1."),
    ("nested tool", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
     "Missing required parameter: 'tools[0].name'."),
    ("tool with both shapes", {"tools": [{"type": "function", "name": "f", "function": {"name": "f"}}]},
     "Unknown parameter: 'tools[0].function'."),
    ("unknown include", {"include": ["bogus"]}, "Invalid value: 'bogus'. Supported values are: "
     "'message.output_text.logprobs', 'reasoning.encrypted_content' and 'web_search_call.action.sources'."),
]


@pytest.mark.parametrize(("overrides", "detail"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_body_rule(emu: EmulatorControl, overrides: dict[str, Any], detail: str) -> None:
    with client() as http:
        r = post_responses(emu, http, **overrides)
    assert r.status_code == 400
    assert r.json() == {"detail": detail}
    assert "x-codex-primary-used-percent" in r.headers


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("minimal body", {}),
    ("null sampling params are ignored", {"temperature": None, "metadata": None}),
    ("tool round trip", {"input": [USER, CALL, OUTPUT]}),
    ("flat tools + include", {"tools": [{"type": "function", "name": "f", "parameters": {}, "strict": False}],
                              "include": ["reasoning.encrypted_content"], "reasoning": {"effort": "high"}}),
    ("hidden model", {"model": "codex-auto-review"}),
    ("gpt-5.6 max effort", {"model": "gpt-5.6-sol", "reasoning": {"effort": "max", "summary": "auto"}}),
    ("string content and developer role", {"input": [{"role": "developer", "content": "be brief"},
                                                     {"role": "user", "content": "hi"}]}),
]


@pytest.mark.parametrize("overrides", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_valid_bodies_stream(emu: EmulatorControl, overrides: dict[str, Any]) -> None:
    with client() as http:
        r = post_responses(emu, http, **overrides)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")


def test_unparsable_json_is_400(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        r = http.post(emu.codex_base + "/responses", content=b"{nope", headers=emu.auth_headers(tokens))
    assert r.status_code == 400
    assert r.json() == {"detail": "We could not parse the JSON body of your request."}


def test_account_model_overrides(emu: EmulatorControl) -> None:
    emu.account(models=["gpt-5.5", "gpt-5.4"], retired=["gpt-5.4"])
    with client() as http:
        assert post_responses(emu, http, model="gpt-5.5").status_code == 200
        r = post_responses(emu, http, model="gpt-5.4")
        assert r.json() == {"detail": NOT_SUPPORTED.format("gpt-5.4")}
        r = post_responses(emu, http, model="gpt-5.6-sol")
        assert r.json() == {"detail": NOT_SUPPORTED.format("gpt-5.6-sol")}


def test_replayed_reasoning_from_another_model_is_rejected(emu: EmulatorControl) -> None:
    from tests.emulator.helpers import parse_sse

    with client() as http:
        r = post_responses(emu, http, reasoning={"effort": "low", "summary": "auto"},
                           include=["reasoning.encrypted_content"])
        item = next(d["item"] for e, d in parse_sse(r.text)
                    if e == "response.output_item.done" and d["item"]["type"] == "reasoning")
        reasoning = {"type": "reasoning", "summary": item["summary"], "encrypted_content": item["encrypted_content"]}
        follow = [USER, reasoning, {"type": "message", "role": "assistant",
                                    "content": [{"type": "output_text", "text": "hello"}]}, USER]
        assert post_responses(emu, http, input=follow).status_code == 200
        r = post_responses(emu, http, input=follow, model="gpt-5.4")
    assert r.status_code == 400
    assert "invalid_encrypted_content" in r.json()["detail"]


class TestAuth:
    def test_missing_or_unknown_token(self, emu: EmulatorControl) -> None:
        with client() as http:
            r = http.post(emu.codex_base + "/responses", json=body())
            assert r.status_code == 401
            assert r.json() == {"detail": "Could not validate credentials"}
            r = http.post(emu.codex_base + "/responses", json=body(),
                          headers={"Authorization": "Bearer a.b.c", "ChatGPT-Account-Id": "x"})
            assert r.status_code == 401

    def test_expired_token(self, emu: EmulatorControl) -> None:
        with client() as http:
            r = post_responses(emu, http, emu.mint_tokens(ttl=-5))
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "token_expired"

    def test_expired_by_control(self, emu: EmulatorControl) -> None:
        tokens = emu.mint_tokens()
        with client() as http:
            assert post_responses(emu, http, tokens).status_code == 200
            emu.expire_access_tokens()
            assert post_responses(emu, http, tokens).status_code == 401
            assert post_responses(emu, http).status_code == 200  # newly minted tokens still work

    def test_tokens_do_not_survive_reset(self, emu: EmulatorControl) -> None:
        tokens = emu.mint_tokens()
        emu.reset()
        with client() as http:
            assert post_responses(emu, http, tokens).status_code == 401

    @pytest.mark.parametrize("account", [None, "someone-else"])
    def test_workspace_header_must_match(self, emu: EmulatorControl, account: str | None) -> None:
        tokens = emu.mint_tokens()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        if account:
            headers["ChatGPT-Account-Id"] = account
        with client() as http:
            r = http.post(emu.codex_base + "/responses", json=body(), headers=headers)
        assert r.status_code == 403
        assert r.json() == {"detail": {"code": "invalid_workspace_selected"}}

    def test_header_name_is_case_insensitive_and_other_accounts_work(self, emu: EmulatorControl) -> None:
        tokens = emu.mint_tokens(account_id="acct-team", plan="team")
        with client() as http:
            r = http.post(emu.codex_base + "/responses", json=body(), headers={
                "authorization": f"Bearer {tokens['access_token']}", "chatgpt-account-id": "acct-team"})
        assert r.status_code == 200
        assert r.headers["x-codex-plan-type"] == "team"


def test_non_bearer_scheme_is_rejected(emu: EmulatorControl) -> None:
    tokens = emu.mint_tokens()
    with client() as http:
        r = http.post(emu.codex_base + "/responses", json=body(), headers={
            "Authorization": f"Basic {tokens['access_token']}", "ChatGPT-Account-Id": tokens["account_id"]})
    assert r.status_code == 401
