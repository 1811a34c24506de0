"""The Codex CLI's ``auth.json``: read it, and write refreshed tokens back in its own format.

In link mode this file stays the source of truth, so the Codex CLI keeps working after we
refresh: we rewrite only ``tokens`` and ``last_refresh``, keep every other field, and write
atomically with mode 0600 (as Codex does).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kabot_codex import _fs
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.errors import CredentialFileError

__all__ = ["CodexAuthFile", "default_codex_auth_path", "read_codex_auth", "write_codex_tokens"]

ENV_CODEX_HOME = "CODEX_HOME"
_RELOGIN_CODEX = "run `codex login` (or log in directly with `kabot login`)"


def default_codex_auth_path() -> Path:
    """Return ``$CODEX_HOME/auth.json`` (``CODEX_HOME`` defaults to ``~/.codex``)."""
    home = os.environ.get(ENV_CODEX_HOME) or "~/.codex"
    return Path(home).expanduser() / "auth.json"


@dataclass(frozen=True)
class CodexAuthFile:
    """What one Codex ``auth.json`` holds: a ChatGPT login, an API key, or both."""

    path: Path
    data: dict[str, Any]
    tokens: TokenSet | None
    api_key: str | None

    def __repr__(self) -> str:
        return f"CodexAuthFile(path={str(self.path)!r}, chatgpt={self.tokens is not None}, " \
               f"api_key={self.api_key is not None})"


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _format_time(epoch: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="microseconds")
    return stamp.replace("+00:00", "Z")


def read_codex_auth(path: Path) -> CodexAuthFile:
    """Read and interpret a Codex ``auth.json``; raise ``CredentialFileError`` if unusable."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialFileError(
            f"There is no Codex CLI login at {path} (Codex may keep it in the system keyring)",
            hint=f"{_RELOGIN_CODEX}; with Codex set `cli_auth_credentials_store = \"file\"`",
        ) from None
    except UnicodeDecodeError as exc:
        raise CredentialFileError(f"The Codex CLI login at {path} is not UTF-8 text (bad byte at offset "
                                  f"{exc.start}); it was left untouched", hint=_RELOGIN_CODEX) from None
    except OSError as exc:
        raise CredentialFileError(f"Cannot read the Codex CLI login at {path}: {exc.strerror}",
                                  hint="check the file's permissions") from None
    try:
        data = json.loads(raw)
    except ValueError:
        # Never echo the content: it holds tokens.
        raise CredentialFileError(f"The Codex CLI login at {path} is not valid JSON",
                                  hint=_RELOGIN_CODEX) from None
    if not isinstance(data, dict):
        raise CredentialFileError(f"The Codex CLI login at {path} is not a JSON object", hint=_RELOGIN_CODEX)
    mode = str(data.get("auth_mode") or "").lower().replace("_", "")
    raw_key = data.get("OPENAI_API_KEY")
    api_key = raw_key if isinstance(raw_key, str) and raw_key else None
    tokens: TokenSet | None = None
    block = data.get("tokens")
    if mode != "apikey" and isinstance(block, dict) and block.get("access_token") is not None:
        _check_strings(path, block, ("access_token", "refresh_token", "id_token", "account_id"))
        tokens = TokenSet.from_claims(
            block["access_token"],
            block.get("refresh_token") or None,
            block.get("id_token") or None,
            account_id=block.get("account_id") or None,
            last_refresh=_parse_time(data.get("last_refresh")),
        )
    if tokens is None and api_key is None:
        raise CredentialFileError(f"The Codex CLI file at {path} holds neither a ChatGPT login nor a key",
                                  hint=_RELOGIN_CODEX)
    return CodexAuthFile(path=path, data=data, tokens=tokens, api_key=api_key)


def _check_strings(path: Path, block: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = block.get(name)
        if value is not None and not isinstance(value, str):
            # Name the field and its JSON type, never the value: it may be a secret.
            raise CredentialFileError(
                f"The Codex CLI login at {path} is damaged: tokens.{name} is a JSON {_fs.json_type(value)}, "
                "not a string; it was left untouched", hint=_RELOGIN_CODEX)


def write_codex_tokens(path: Path, tokens: TokenSet, *, now: float, replacing: str | None = None) -> bool:
    """Write ``tokens`` back into the Codex file at ``path``, keeping everything else in it.

    The caller holds the refresh lock. The file is re-read here so fields Codex changed since
    we last looked survive. With ``replacing`` (the refresh token that was spent), nothing is
    written and False is returned if the file no longer holds it: the Codex CLI logged in again
    or rotated it meanwhile, and its newer login wins.
    """
    current = read_codex_auth(path).data
    block = current.get("tokens") if isinstance(current.get("tokens"), dict) else {}
    if replacing is not None and block.get("refresh_token") != replacing:
        return False
    block = dict(block)
    block.update({
        "id_token": tokens.id_token if tokens.id_token is not None else block.get("id_token"),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "account_id": tokens.account_id if tokens.account_id is not None else block.get("account_id"),
    })
    current["tokens"] = block
    current["last_refresh"] = _format_time(tokens.last_refresh or now)
    _fs.atomic_write_json(path, current)
    return True
