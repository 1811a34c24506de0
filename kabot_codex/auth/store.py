"""Where a profile's tokens live, read cheaply and written back safely.

A profile keeps its tokens in ``config.json`` (browser, device, codex-copy logins), in a
linked Codex ``auth.json`` (codex-link), or holds an API key. ``load_snapshot`` reads the
current state and records a stat fingerprint of the files it came from, so the hot path can
tell "nothing changed" with an ``os.stat`` instead of a parse.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kabot_codex import _fs
from kabot_codex.auth.codex_file import read_codex_auth, write_codex_tokens
from kabot_codex.auth.credentials import Credentials
from kabot_codex.auth.tokens import TokenSet
from kabot_codex.config import AuthProfile, config_path, edit_config, load_config
from kabot_codex.errors import NotLoggedInError, UnknownProfileError

__all__ = ["Fingerprint", "Snapshot", "fingerprint", "load_snapshot", "login_hint", "save_tokens",
           "snapshot_of", "valid_profile_name"]

Fingerprint = tuple[tuple[int, int, int] | None, ...]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def valid_profile_name(name: str) -> bool:
    """Return whether ``name`` can name a profile (it also names a lock file)."""
    return bool(_NAME.match(name))


def login_hint(name: str, *, linked: bool = False) -> str:
    """Return the command that logs profile ``name`` in again."""
    flag = "" if name == "default" else f" --profile {name}"
    if linked:
        return f"run `codex login` then `kabot login --import-codex{flag}`, or `kabot login{flag}`"
    return f"run `kabot login{flag}`"


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    # An atomic replace always changes the inode; mtime+size catch in-place writers (Codex).
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def fingerprint(config: Path, linked: Path | None) -> Fingerprint:
    """Return the stat fingerprint of the files a snapshot was read from."""
    return (_stat(config),) if linked is None else (_stat(config), _stat(linked))


@dataclass(frozen=True)
class Snapshot:
    """A profile's credentials as stored at one moment, plus where they came from."""

    name: str
    profile: AuthProfile
    config: Path
    linked: Path | None
    fingerprint: Fingerprint
    tokens: TokenSet | None = None
    api_key: str | None = field(default=None, repr=False)

    @functools.cached_property
    def credentials(self) -> Credentials:
        """The credentials to hand to the provider (built once: the hot path returns this object)."""
        if self.tokens is not None:
            return Credentials(mode="chatgpt", token=self.tokens.access_token,
                               account_id=self.tokens.account_id, profile=self.name)
        assert self.api_key is not None
        return Credentials(mode="api_key", token=self.api_key, profile=self.name)

    @property
    def lock_path(self) -> Path:
        """The file (``<this>.lock``) that serialises refreshes of these tokens across processes."""
        if self.linked is not None:
            # Next to the Codex file (the link's target if it is a symlink), so every kabot home
            # linking it shares the lock.
            target = _fs.write_target(self.linked)
            return target.with_name(target.name + ".kabot-refresh")
        safe = self.name if valid_profile_name(self.name) else hashlib.sha256(self.name.encode()).hexdigest()[:16]
        return self.config.parent / f"refresh-{safe}"

    def relogin_hint(self) -> str:
        """The command that fixes a dead login of this profile."""
        return login_hint(self.name, linked=self.linked is not None)


def load_snapshot(name: str | None, config: Path | None = None) -> Snapshot:
    """Read profile ``name`` (``None``: the active profile) from the store."""
    config = config or config_path()
    # Stat before reading: a write that lands in between changes the stat, so the next call
    # re-reads instead of trusting a stale parse.
    config_stat = fingerprint(config, None)
    codex = load_config(config).codex
    resolved = name or codex.active_profile
    profile = codex.profiles.get(resolved)
    if profile is None:
        known = ", ".join(sorted(codex.profiles)) or "none"
        raise UnknownProfileError(f"No openai-codex login for profile {resolved!r} (profiles: {known})",
                                  hint=login_hint(resolved))
    return snapshot_of(resolved, profile, config, config_stat)


def snapshot_of(name: str, profile: AuthProfile, config: Path, config_stat: Fingerprint = ()) -> Snapshot:
    """Build the snapshot of an already loaded ``profile`` (reads its linked Codex file, if any)."""
    if profile.codex_auth_file:
        linked = Path(profile.codex_auth_file).expanduser()
        linked_stat = fingerprint(linked, None)
        source = read_codex_auth(linked)
        return Snapshot(name, profile, config, linked, config_stat + linked_stat,
                        tokens=source.tokens, api_key=None if source.tokens else source.api_key)
    if profile.access_token:
        tokens = TokenSet(profile.access_token, profile.refresh_token, profile.id_token,
                          account_id=profile.account_id, expires_at=profile.expires_at,
                          last_refresh=profile.last_refresh or profile.created_at)
        return Snapshot(name, profile, config, None, config_stat, tokens=tokens)
    if profile.api_key:
        return Snapshot(name, profile, config, None, config_stat, api_key=profile.api_key)
    raise NotLoggedInError(f"Profile {name!r} holds no credentials", hint=login_hint(name))


def save_tokens(snapshot: Snapshot, fresh: TokenSet, *, now: float) -> bool:
    """Persist refreshed tokens where ``snapshot`` came from; return False if the login changed.

    The caller holds the refresh lock. If the profile was logged out or replaced by a new login
    while we refreshed, the newer state wins and nothing is written. A write that fails raises
    ``OSError`` (``CredentialFileError`` included) or ``ConfigError``; the caller keeps the tokens.
    """
    used = snapshot.tokens.refresh_token if snapshot.tokens else None
    if snapshot.linked is not None:
        return write_codex_tokens(snapshot.linked, fresh, now=now, replacing=used)
    with edit_config(snapshot.config) as config:
        profile = config.codex.profiles.get(snapshot.name)
        if profile is None or profile.refresh_token != used:
            return False
        profile.access_token = fresh.access_token
        profile.refresh_token = fresh.refresh_token
        profile.id_token = fresh.id_token
        profile.account_id = fresh.account_id
        profile.expires_at = fresh.expires_at
        profile.last_refresh = now
        profile.email = fresh.email or profile.email
        profile.plan = fresh.plan or profile.plan
    return True
