"""Logging in, logging out and describing the stored logins (what ``kabot login/logout/status`` run).

Every login ends in one ``edit_config()`` block that stores the profile and makes it active,
so an interrupted login (Ctrl-C, timeout, refused approval) writes nothing at all.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from kabot_codex.auth.codex_file import default_codex_auth_path, read_codex_auth
from kabot_codex.auth.health import dead_login, forget_login
from kabot_codex.auth.redact import remember_secret
from kabot_codex.auth.session import reset_sessions
from kabot_codex.auth.store import login_hint, snapshot_of, valid_profile_name
from kabot_codex.auth.tokens import Freshness, TokenSet
from kabot_codex.config import AuthProfile, config_path, edit_config, load_config
from kabot_codex.errors import AuthError, ConfigError, LoginError, NotLoggedInError

__all__ = ["METHODS", "api_key_problem", "logout", "run_login", "save_token_login", "status"]

METHODS = ("browser", "device", "codex", "api-key")

# Methods whose refresh token belongs to us alone, so logout may revoke it. A copied Codex
# login may still be the Codex CLI's live session; a linked one is Codex's own.
_OWNED = ("browser", "device")


def run_login(method: str, *, profile: str = "default", console: Console | None = None,
              **options: Any) -> AuthProfile:
    """Log in with ``method`` and save the result as profile ``profile`` (made active).

    Methods and options:
      * ``"browser"`` — ``open_browser: bool = True``, ``paste: bool | None = None`` (also
        accept a pasted redirect on stdin; None: when stdin is a terminal), ``timeout: float = 300``;
      * ``"device"`` — ``timeout: float = 900``;
      * ``"codex"`` — reuse a Codex CLI login: ``path: str | None`` (default
        ``$CODEX_HOME/auth.json``), ``copy: bool = False`` (False: link to the file);
      * ``"api-key"`` — ``api_key: str``.

    Returns the saved profile. Raises ``LoginError`` (and subclasses) or
    ``CredentialFileError``; nothing is written unless the login succeeded.
    """
    if not valid_profile_name(profile):
        raise ConfigError(f"{profile!r} cannot name a profile",
                          hint="use letters, digits and . _ - @ (up to 64 characters)")
    console = console or Console()
    if method == "browser":
        from kabot_codex.auth.flows import browser_login

        allowed = {"open_browser", "paste", "timeout"}
        _check_options(method, options, allowed)
        tokens = browser_login(console=console, **options)
        saved = _save(profile, _token_profile("browser", tokens))
    elif method == "device":
        from kabot_codex.auth.flows import device_login

        _check_options(method, options, {"timeout"})
        tokens = device_login(console=console, **options)
        saved = _save(profile, _token_profile("device", tokens))
    elif method == "codex":
        _check_options(method, options, {"path", "copy"})
        saved = _save(profile, _codex_profile(console, options.get("path"), bool(options.get("copy"))))
    elif method == "api-key":
        _check_options(method, options, {"api_key"})
        key = str(options.get("api_key") or "").strip()
        if not key:
            raise LoginError("No API key was given", hint="pass the key on stdin or in OPENAI_API_KEY")
        remember_secret(key)
        problem = api_key_problem(key)
        if problem:
            console.print(f"[yellow]warning:[/] this does not look like an OpenAI API key ({problem}); "
                          "saved anyway — check it if calls fail with 401.", highlight=False)
        saved = _save(profile, AuthProfile(method="api-key", api_key=key, created_at=time.time()))
    else:
        raise LoginError(f"Unknown login method {method!r}", hint=f"use one of: {', '.join(METHODS)}")
    return saved


def api_key_problem(key: str) -> str | None:
    """Say why ``key`` is unlikely to be an OpenAI API key, or None if it looks like one.

    A warning, not a refusal: proxies and compatible servers take keys of other shapes.
    """
    if any(ch.isspace() for ch in key):
        return "it contains whitespace — a line break from copying?"
    if not key.startswith("sk-"):
        return "OpenAI keys start with sk-"
    if len(key) < 20:
        return f"only {len(key)} characters; OpenAI keys are much longer"
    return None


def _check_options(method: str, options: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"run_login({method!r}) got unexpected options: {', '.join(unknown)}")


def _token_profile(method: str, tokens: TokenSet) -> AuthProfile:
    now = time.time()
    return AuthProfile(
        method=method, access_token=tokens.access_token, refresh_token=tokens.refresh_token,
        id_token=tokens.id_token, account_id=tokens.account_id, expires_at=tokens.expires_at,
        email=tokens.email, plan=tokens.plan, last_refresh=tokens.last_refresh or now, created_at=now,
    )


def save_token_login(tokens: Mapping[str, Any], *, profile: str = "default", method: str = "browser",
                     active: bool = True) -> AuthProfile:
    """Store a token-endpoint response as profile ``profile``, exactly as a login stores it.

    For tokens obtained elsewhere — the emulator's ``mint_tokens()`` in the offline smoke,
    benchmarks and tests. Unlike an interactive login it revokes nothing it replaces.
    """
    stored = _token_profile(method, TokenSet.from_token_response(tokens, now=time.time()))
    with edit_config() as config:
        config.codex.profiles[profile] = stored
        if active:
            config.codex.active_profile = profile
    reset_sessions()
    return stored


def _codex_profile(console: Console, path: str | os.PathLike[str] | None, copy: bool) -> AuthProfile:
    source_path = (Path(path).expanduser() if path else default_codex_auth_path()).absolute()
    source = read_codex_auth(source_path)
    now = time.time()
    mode = source_path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        console.print(f"[yellow]warning:[/] {source_path} is readable by other users; "
                      f"`chmod 600 {source_path}` is advisable.")
    tokens = source.tokens
    if tokens is None:  # an API-key Codex login
        if copy:
            return AuthProfile(method="api-key", api_key=source.api_key, created_at=now)
        return AuthProfile(method="codex-link", codex_auth_file=str(source_path), created_at=now)
    remember_secret(tokens.access_token, tokens.refresh_token, tokens.id_token)
    if not copy:
        # The file stays the source of truth; keep only what `kabot status` shows offline.
        return AuthProfile(method="codex-link", codex_auth_file=str(source_path), email=tokens.email,
                           plan=tokens.plan, created_at=now)
    console.print(
        "[yellow]Copied[/] the Codex CLI login. Refresh tokens are single-use: after kabot's first "
        "refresh the Codex CLI's copy stops working, so run `codex login` there again "
        "(or use link mode, the default, to share one login)."
    )
    return _token_profile("codex-copy", tokens)


def _save(name: str, profile: AuthProfile) -> AuthProfile:
    with edit_config() as config:
        codex = config.codex
        previous = codex.profiles.get(name)
        codex.profiles[name] = profile
        codex.active_profile = name
    reset_sessions()
    # Codex revokes the tokens a new login supersedes; do the same for tokens only we held.
    if previous is not None and previous.method in _OWNED and previous.refresh_token != profile.refresh_token:
        from kabot_codex.auth.oauth import revoke

        revoke(previous.refresh_token)
    return profile


def logout(profile: str | None = None) -> str | None:
    """Remove profile ``profile`` (default: the active one) and revoke tokens only it held.

    A linked Codex CLI login is left alone — it is Codex's. Returns the removed profile's name,
    or None when no login at all is stored (nothing to do is not an error).
    """
    if not config_path().exists() or not load_config().codex.profiles:
        return None
    with edit_config() as config:
        codex = config.codex
        name = profile or codex.active_profile
        removed = codex.profiles.pop(name, None)
        if removed is None:
            known = ", ".join(sorted(codex.profiles)) or "none"
            raise NotLoggedInError(f"There is no profile {name!r} to log out (profiles: {known})",
                                   hint="see `kabot status`")
        if codex.active_profile == name and codex.profiles:
            codex.active_profile = "default" if "default" in codex.profiles else sorted(codex.profiles)[0]
    reset_sessions()
    from kabot_codex.state import forget_rate_limits

    forget_rate_limits(name)
    forget_login(name)
    if removed.method in _OWNED:
        from kabot_codex.auth.oauth import revoke

        revoke(removed.refresh_token)
    return name


def _source(profile: AuthProfile) -> str:
    return {"codex-link": "linked", "codex-copy": "copied"}.get(profile.method, "kabot")


def status(*, now: float | None = None) -> list[dict[str, Any]]:
    """Describe every stored profile — never a secret: no token, key or account id."""
    from kabot_codex.state import last_rate_limits

    now = time.time() if now is None else now
    path = config_path()
    codex = load_config(path).codex
    limits = last_rate_limits()
    rows: list[dict[str, Any]] = []
    for name, profile in sorted(codex.profiles.items()):
        row: dict[str, Any] = {
            "profile": name, "active": name == codex.active_profile, "method": profile.method,
            "source": _source(profile), "codex_auth_file": profile.codex_auth_file,
            "mode": None, "email": profile.email, "plan": profile.plan, "expires_at": None,
            "expires_in": None, "token_state": None, "last_refresh": profile.last_refresh,
            "created_at": profile.created_at, "error": None,
            "rate_limits": None,
        }
        try:
            snap = snapshot_of(name, profile, path)
        except AuthError as err:
            row["error"] = err.message
            row["hint"] = err.hint or login_hint(name, linked=profile.codex_auth_file is not None)
            rows.append(row)
            continue
        row["rate_limits"] = _limits_of_this_login(limits.get(name), snap.credentials.account_key)
        if snap.tokens is None:
            row.update(mode="api_key", token_state="api key")
            if dead_login(name, snap.api_key) is not None:
                row.update(token_state="rejected", error="the backend rejected this API key (HTTP 401)",
                           hint=f"check the key, or {snap.relogin_hint().removeprefix('run ')} --api-key")
        else:
            tokens = snap.tokens
            state = tokens.state(now)
            row.update(mode="chatgpt", email=tokens.email or profile.email, plan=tokens.plan or profile.plan,
                       expires_at=tokens.expires_at, last_refresh=tokens.last_refresh or profile.last_refresh,
                       token_state={Freshness.FRESH: "valid", Freshness.STALE: "refresh due",
                                    Freshness.EXPIRED: "expired"}[state])
            if tokens.expires_at is not None:
                row["expires_in"] = round(tokens.expires_at - now)
            dead = dead_login(name, tokens.refresh_token)
            if dead is not None:
                # A call already learned this login is over; its expiry time says nothing.
                code = dead.get("code") or "rejected"
                row.update(token_state="needs login", error=f"login no longer valid ({code})",
                           hint=snap.relogin_hint())
        rows.append(row)
    return rows


def _limits_of_this_login(entry: Any, account_key: str) -> dict[str, Any] | None:
    # Snapshots are recorded per profile name; after a logout and a new login under the same
    # name (say an API key after a ChatGPT login) the old account's limits are not this login's.
    if not isinstance(entry, dict) or entry.get("account") != account_key:
        return None
    # "account" is a hash of the account id: harmless, but of no use to a reader either.
    return {k: v for k, v in entry.items() if k not in ("account", "profile")}
