"""Reading and writing the Codex CLI's auth.json."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from kabot_codex.auth.codex_file import default_codex_auth_path, read_codex_auth, write_codex_tokens
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.errors import CredentialFileError
from tests.auth.test_tokens import make_jwt


def codex_json(access: str = "a", refresh: str = "r") -> dict[str, object]:
    return {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {"id_token": make_jwt({"email": "x@y"}), "access_token": access, "refresh_token": refresh,
                   "account_id": "acc"},
        "last_refresh": "2026-01-01T12:34:56.789Z",
        "agent_identity": "keep-me",
    }


def test_default_path_follows_codex_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    assert default_codex_auth_path() == tmp_path / "auth.json"
    monkeypatch.delenv("CODEX_HOME")
    assert default_codex_auth_path() == Path("~/.codex/auth.json").expanduser()


def test_read_parses_tokens_and_last_refresh(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(codex_json(access="SENTINEL-A", refresh="SENTINEL-R")))
    parsed = read_codex_auth(path)
    assert parsed.tokens is not None and parsed.tokens.refresh_token == "SENTINEL-R"
    assert parsed.tokens.account_id == "acc" and parsed.tokens.email == "x@y"
    assert parsed.tokens.last_refresh == pytest.approx(1767270896.789)
    assert "SENTINEL" not in repr(parsed) and "SENTINEL" not in repr(parsed.tokens)


def test_api_key_mode_file(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"OPENAI_API_KEY": "sk-test-123456789"}))
    parsed = read_codex_auth(path)
    assert parsed.tokens is None and parsed.api_key == "sk-test-123456789"


@pytest.mark.parametrize("content", ["{not json SENTINEL", "[]", json.dumps({"tokens": {}})])
def test_unusable_files_raise_without_echoing(tmp_path: Path, content: str) -> None:
    path = tmp_path / "auth.json"
    path.write_text(content)
    with pytest.raises(CredentialFileError) as info:
        read_codex_auth(path)
    assert "SENTINEL" not in str(info.value) and info.value.hint


def test_missing_file_mentions_keyring(tmp_path: Path) -> None:
    with pytest.raises(CredentialFileError) as info:
        read_codex_auth(tmp_path / "nope.json")
    assert "keyring" in str(info.value)


def test_write_back_keeps_unknown_fields_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(codex_json()))
    os.chmod(path, 0o644)
    fresh = TokenSet("a2", "r2", None, account_id="acc", expires_at=None, last_refresh=1767270896.0)
    write_codex_tokens(path, fresh, now=1767270896.0)
    data = json.loads(path.read_text())
    assert data["tokens"]["access_token"] == "a2" and data["tokens"]["refresh_token"] == "r2"
    assert data["tokens"]["id_token"] == codex_json()["tokens"]["id_token"]  # type: ignore[index]
    assert data["agent_identity"] == "keep-me" and data["auth_mode"] == "chatgpt"
    assert data["last_refresh"] == "2026-01-01T12:34:56.000000Z"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_codex_auth(path).tokens is not None


def test_write_back_refuses_when_the_codex_cli_rotated_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(codex_json()))
    before = path.read_text()
    fresh = TokenSet("a2", "r2", None, account_id="acc", expires_at=None, last_refresh=1767270896.0)
    assert write_codex_tokens(path, fresh, now=1767270896.0, replacing="a-token-the-file-no-longer-holds") is False
    assert path.read_text() == before
