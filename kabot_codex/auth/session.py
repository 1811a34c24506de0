"""Credentials of one stored profile, kept fresh for the provider on every call.

The hot path (``get``/``aget`` with a fresh token) costs an ``os.stat`` or two: the parsed
profile is cached and re-read only when its file's stat fingerprint changes. Everything else
is about refreshing exactly once:

* in a process, one *flight* (a ``concurrent.futures.Future``) per token store: the first
  caller refreshes, every other thread or asyncio task — on any event loop — waits for the
  same result. Async callers run the flight in a worker thread, never on the event loop;
* across processes, a file lock per token store, and a re-read after taking it: whoever got
  there first already rotated the refresh token, and we use theirs;
* the rotated tokens are written (atomically, 0600) before the new access token is returned;
  if that write fails (full disk, read-only or foreign-owned directory) they are kept in
  memory and used — the spent refresh token on disk is never used again — while the save is
  retried on later calls and at exit, with a warning naming the file and the fix;
* a refresh lock that cannot be created (read-only home) does not fail a still-valid token;
* a permanent failure (reused / expired / revoked refresh token) raises
  ``ReloginRequiredError`` and is remembered, so no call hammers the issuer or loops.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import logging
import threading
import time
from pathlib import Path

from kabot_codex import _fs
from kabot_codex.auth.credentials import Credentials
from kabot_codex.auth.store import Snapshot, fingerprint, load_snapshot, save_tokens
from kabot_codex.auth.tokens import Freshness, TokenSet
from kabot_codex.config import config_path
from kabot_codex.errors import (
    ConfigError,
    CredentialFileError,
    KabotError,
    NotLoggedInError,
    RefreshError,
    ReloginRequiredError,
)

__all__ = ["ProfileSession", "reset_sessions", "save_pending", "session_for"]

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 60.0
"""How long to wait for another process's refresh (its HTTP call has a 20 s timeout)."""

TRANSIENT_BACKOFF = 30.0
"""After a transient refresh failure, keep using the still-valid token this long before
trying again, so an issuer outage does not add a timeout to every call."""

RESAVE_EVERY = 1.0
"""After a failed save of refreshed tokens, the next call retries it at most this often."""

WARN_EVERY = 60.0
"""How often a save that keeps failing is warned about again."""

_Flight = concurrent.futures.Future  # of Credentials


@dataclasses.dataclass
class _Unsaved:
    """Refreshed tokens that only this process holds, because writing them failed."""

    tokens: TokenSet
    stored: Snapshot  # what the store still holds: its refresh token is spent
    target: Path  # the file that could not be written
    next_try: float  # monotonic
    warned_at: float  # monotonic

# One in-flight refresh per (token store, profile), shared by every session object pointing
# at it — ``session_for(None)`` and ``session_for("default")`` may be the same profile.
_FlightKey = tuple[Path, str]
_flights: dict[_FlightKey, _Flight] = {}
_flights_lock = threading.Lock()


def _digest(secret: str | None) -> str | None:
    return hashlib.sha256(secret.encode()).hexdigest() if secret else None


class ProfileSession:
    """Hands out fresh credentials of profile ``name`` (``None``: the active profile)."""

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._snap: Snapshot | None = None
        self._dead: str | None = None  # digest of a refresh token that failed permanently
        self._retry_at = 0.0  # monotonic time before which a failed proactive refresh is not retried

    @property
    def profile(self) -> str | None:
        return self._name

    def __repr__(self) -> str:
        return f"ProfileSession({self._name!r})"

    # --- reading ---------------------------------------------------------------------------

    def _current(self) -> Snapshot:
        """Return the stored profile, re-parsing only when one of its files changed."""
        snap = self._snap
        path = config_path()
        if snap is not None and snap.config == path and snap.fingerprint == fingerprint(path, snap.linked):
            return snap
        return self._reload(path)

    def _reload(self, path: Path | None = None) -> Snapshot:
        snap = _overlay(load_snapshot(self._name, path))
        self._snap = snap
        return snap

    def _fast(self) -> Credentials | None:
        """Return the cached credentials if they need no refresh, else ``None``."""
        snap = self._current()
        if _unsaved and _resave_due(snap):
            return None  # retry the failed save (on the slow path, off the event loop)
        if snap.tokens is None:
            return snap.credentials  # API key: nothing to refresh
        state = snap.tokens.state(time.time())
        if state is Freshness.FRESH:
            return snap.credentials
        if state is Freshness.STALE and (time.monotonic() < self._retry_at
                                         or _digest(snap.tokens.refresh_token) == self._dead):
            return snap.credentials  # still valid; a refresh failed recently, do not hammer
        return None

    # --- the public surface (CredentialSource) ---------------------------------------------

    def get(self, *, deadline: float | None = None) -> Credentials:
        """Return credentials that are valid for at least the next five minutes.

        ``deadline`` (``time.monotonic()``) bounds the wait for a refresh, not the refresh:
        a refresh cut short could spend the single-use refresh token without saving its
        successor, so it runs on in a worker thread and saves (docs/internals/network.md).
        """
        creds = self._fast()
        return creds if creds is not None else self._obtain(None, deadline)

    async def aget(self, *, deadline: float | None = None) -> Credentials:
        """Async ``get``: no thread hop unless a refresh is needed, never blocks the loop."""
        creds = self._fast()
        return creds if creds is not None else await self._aobtain(None, deadline)

    def recover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials:
        """Return credentials to retry with after ``rejected`` got a 401, or raise."""
        return self._obtain(rejected, deadline)

    async def arecover(self, rejected: Credentials, *, deadline: float | None = None) -> Credentials:
        """Async ``recover``."""
        return await self._aobtain(rejected, deadline)

    # --- single flight -----------------------------------------------------------------------

    def _join(self) -> tuple[_Flight, _FlightKey | None]:
        """Return the in-flight refresh for this store, and its key if the caller must run it."""
        snap = self._current()
        key = (snap.lock_path, snap.name)
        with _flights_lock:
            flight = _flights.get(key)
            if flight is not None and not flight.done():
                return flight, None
            flight = _flights[key] = concurrent.futures.Future()
            # RUNNING futures cannot be cancelled: a cancelled asyncio waiter must not cancel
            # the refresh for everybody else.
            flight.set_running_or_notify_cancel()
            return flight, key

    def _fly(self, flight: _Flight, key: _FlightKey, rejected: Credentials | None) -> None:
        """Run the refresh and publish its outcome to everyone waiting on ``flight``."""
        try:
            result = self._refresh(rejected)
        except Exception as exc:
            self._land(flight, key)
            flight.set_exception(exc)
        except BaseException:  # Ctrl-C in the owner: waiters get an error, the owner the interrupt
            self._land(flight, key)
            flight.set_exception(RefreshError("The token refresh was interrupted"))
            raise
        else:
            self._land(flight, key)
            flight.set_result(result)

    @staticmethod
    def _land(flight: _Flight, key: _FlightKey) -> None:
        with _flights_lock:
            if _flights.get(key) is flight:
                del _flights[key]

    def _obtain(self, rejected: Credentials | None, deadline: float | None = None) -> Credentials:
        creds: Credentials | None = None
        # Twice at most: a 401-recovery that joined a proactive flight may get back the very
        # token that was rejected, and then needs a flight of its own.
        for _ in range(2):
            flight, key = self._join()
            if key is not None:
                if deadline is None:
                    self._fly(flight, key, rejected)
                else:
                    _background().submit(self._fly_quietly, flight, key, rejected)
            fallback = self._still_valid(rejected, deadline)
            wait = LOCK_TIMEOUT * 2 if deadline is None else _wait_budget(deadline, fallback)
            try:
                creds = flight.result(timeout=wait)
            except concurrent.futures.TimeoutError:
                if fallback is not None:
                    return fallback
                raise RefreshError("Timed out waiting for this process's token refresh") from None
            if rejected is None or creds.token != rejected.token:
                return creds
        assert creds is not None
        return creds

    async def _aobtain(self, rejected: Credentials | None, deadline: float | None = None) -> Credentials:
        creds: Credentials | None = None
        for _ in range(2):
            flight, key = self._join()
            if key is not None:
                # The lock wait and the HTTP call happen in a worker thread; _fly never raises
                # there (outcomes go to the future), so nothing is left unretrieved.
                # Our own pool, not the loop's: asyncio.run() would otherwise wait at exit for a
                # refresh the caller already stopped waiting for.
                _background().submit(self._fly_quietly, flight, key, rejected)
            fallback = self._still_valid(rejected, deadline)
            wait = None if deadline is None else _wait_budget(deadline, fallback)
            try:
                # The flight is RUNNING, so giving up here does not cancel it for anyone else.
                creds = await asyncio.wait_for(asyncio.wrap_future(flight), wait)
            except TimeoutError:
                if fallback is not None:
                    return fallback
                raise RefreshError("Timed out waiting for the token refresh") from None
            if rejected is None or creds.token != rejected.token:
                return creds
        assert creds is not None
        return creds

    def _still_valid(self, rejected: Credentials | None, deadline: float | None) -> Credentials | None:
        """The current token if a slow proactive refresh may be skipped for it (still valid)."""
        snap = self._snap
        if deadline is None or rejected is not None or snap is None or snap.tokens is None:
            return None
        return snap.credentials if snap.tokens.state(time.time()) is Freshness.STALE else None

    def _fly_quietly(self, flight: _Flight, key: _FlightKey, rejected: Credentials | None) -> None:
        try:
            self._fly(flight, key, rejected)
        except BaseException:  # already published to the flight
            pass

    # --- the refresh itself ------------------------------------------------------------------

    @staticmethod
    def _good_enough(snap: Snapshot, rejected: Credentials | None, now: float) -> bool:
        """Whether the stored credentials can be handed out without a refresh."""
        if snap.tokens is None:
            return rejected is None or snap.api_key != rejected.token
        state = snap.tokens.state(now)
        if rejected is None:
            return state is Freshness.FRESH
        return snap.tokens.access_token != rejected.token and state is not Freshness.EXPIRED

    def _refresh(self, rejected: Credentials | None) -> Credentials:
        # The cached snapshot re-reads itself if its files changed (stat check); the re-read
        # that matters comes after taking the lock, in _refresh_locked.
        snap = self._current()
        pending = _unsaved.get(_key(snap)) if _unsaved else None
        if pending is not None and time.monotonic() >= pending.next_try:
            _resave(pending)
            snap = self._current()
        if self._good_enough(snap, rejected, time.time()):
            return snap.credentials  # another thread or process already refreshed
        if snap.tokens is None:
            from kabot_codex.auth.health import note_dead_login

            note_dead_login(snap.name, snap.api_key, "invalid_api_key", "the backend rejected the API key")
            raise NotLoggedInError(f"The backend rejected the API key of profile {snap.name!r} (HTTP 401)",
                                   hint=f"check the key, or {snap.relogin_hint().removeprefix('run ')}")
        self._check_alive(snap)
        lock = contextlib.ExitStack()
        try:
            lock.enter_context(_fs.file_lock(snap.lock_path, timeout=LOCK_TIMEOUT))
        except _fs.LockTimeout:
            raise RefreshError(f"Timed out waiting for another process to refresh profile {snap.name!r}",
                               hint=f"if it persists, remove {snap.lock_path}.lock") from None
        except _fs.LockUnavailable as exc:
            return self._without_lock(snap, rejected, exc)
        with lock:
            return self._refresh_locked(rejected)

    def _without_lock(self, snap: Snapshot, rejected: Credentials | None, exc: OSError) -> Credentials:
        """No refresh without the lock: a refresh whose result cannot be kept would lose the login."""
        assert snap.tokens is not None
        lock_file = Path(exc.filename or f"{snap.lock_path}.lock")
        why = f"its lock file {lock_file} cannot be created ({exc.strerror})"
        fix = _fs.write_fix(exc, lock_file)
        if rejected is None and snap.tokens.state(time.time()) is Freshness.STALE:
            self._retry_at = time.monotonic() + TRANSIENT_BACKOFF
            log.warning("Profile %r is due for a token refresh but %s; using the current token, which is "
                        "still valid for a few minutes — %s", snap.name, why, fix)
            return snap.credentials
        raise CredentialFileError(f"The login of profile {snap.name!r} needs a token refresh, but {why}; "
                                  "the stored token was left as it is", hint=fix)

    def _check_alive(self, snap: Snapshot) -> None:
        assert snap.tokens is not None
        if self._dead is not None and _digest(snap.tokens.refresh_token) == self._dead:
            raise ReloginRequiredError(f"The login of profile {snap.name!r} is no longer valid",
                                       hint=snap.relogin_hint())

    def _refresh_locked(self, rejected: Credentials | None) -> Credentials:
        snap = self._reload()  # re-read after the lock: the previous holder may have refreshed
        now = time.time()
        if self._good_enough(snap, rejected, now):
            return snap.credentials
        assert snap.tokens is not None
        self._check_alive(snap)
        from kabot_codex.auth import oauth  # httpx: only paid when a refresh happens (keeps the CLI fast)

        try:
            fresh = oauth.refresh(snap.tokens, now=now)
        except ReloginRequiredError as err:
            return self._after_permanent_failure(snap, rejected, err)
        except RefreshError:
            if rejected is None and snap.tokens.state(now) is Freshness.STALE:
                # Still valid for a few minutes: serve it and retry later, like google-auth's
                # fallback from a failed background refresh.
                self._retry_at = time.monotonic() + TRANSIENT_BACKOFF
                log.warning("Refreshing profile %r failed; using the current token for now", snap.name)
                return snap.credentials
            raise
        # Persist the rotated refresh token before the new access token leaves this function:
        # if we died after using it but before saving, the login would be lost.
        unsaved = _unsaved.get(_key(snap))
        saved = _save(unsaved.stored if unsaved is not None else snap, fresh, now)
        self._snap = None
        self._retry_at = 0.0
        if not saved:
            # Logged out or logged in again while we refreshed: the store's newer state wins
            # (raises NotLoggedInError if the profile is gone).
            return self._reload().credentials
        return Credentials(mode="chatgpt", token=fresh.access_token, account_id=fresh.account_id,
                           profile=snap.name)

    def _after_permanent_failure(self, snap: Snapshot, rejected: Credentials | None,
                                 err: ReloginRequiredError) -> Credentials:
        assert snap.tokens is not None
        # A writer that does not take our lock (the Codex CLI on a linked file) may have
        # rotated the token while we asked: if the store now holds a different, usable login,
        # take it instead of failing.
        again = self._reload()
        now = time.time()
        if (again.tokens is not None and again.tokens.refresh_token != snap.tokens.refresh_token
                and self._good_enough(again, rejected, now)):
            return again.credentials
        self._dead = _digest(snap.tokens.refresh_token)
        from kabot_codex.auth.health import note_dead_login

        note_dead_login(snap.name, snap.tokens.refresh_token, err.code, err.message)
        if rejected is None and snap.tokens.state(now) is Freshness.STALE:
            log.warning("The login of profile %r can no longer be refreshed (%s); %s",
                        snap.name, err.code or "rejected", snap.relogin_hint())
            return snap.credentials  # still works for a few minutes; the next call will raise
        raise ReloginRequiredError(f"{err.message} (profile {snap.name!r})", code=err.code,
                                   hint=snap.relogin_hint()) from None


def _describe(error: Exception) -> str:
    if isinstance(error, KabotError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


def _fix(error: Exception, target: Path) -> str:
    if isinstance(error, KabotError) and error.hint:
        return error.hint
    if isinstance(error, OSError) and not isinstance(error, KabotError):
        return _fs.write_fix(error, target)
    return f"check that {target.parent} is writable"


def _wait_budget(deadline: float, fallback: Credentials | None) -> float:
    # With a still-valid token to fall back on, a slow issuer may take at most half the call.
    left = max(0.0, deadline - time.monotonic())
    return left / 2 if fallback is not None else left


_refreshers: concurrent.futures.ThreadPoolExecutor | None = None
_refreshers_lock = threading.Lock()


def _background() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for refreshes a caller with a deadline may stop waiting for (joined at exit,
    so a refresh in progress still saves its rotated tokens)."""
    global _refreshers
    with _refreshers_lock:
        if _refreshers is None:
            _refreshers = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="kabot-refresh")
        return _refreshers


_sessions: dict[str | None, ProfileSession] = {}
_sessions_lock = threading.Lock()
# --- refreshed tokens that could not be saved ---------------------------------------------------
# Process-wide, keyed by token store and profile (not kept on a session object): reset_sessions()
# after another profile's login must not make this process fall back to the spent token.
_UnsavedKey = tuple[Path, str]
_unsaved: dict[_UnsavedKey, _Unsaved] = {}
_unsaved_lock = threading.Lock()


def _key(snap: Snapshot) -> _UnsavedKey:
    return (snap.linked or snap.config, snap.name)


def _resave_due(snap: Snapshot) -> bool:
    unsaved = _unsaved.get(_key(snap))
    return unsaved is not None and time.monotonic() >= unsaved.next_try


def _overlay(stored: Snapshot) -> Snapshot:
    """Put tokens that could not be saved over the stored (spent) ones they replace."""
    unsaved = _unsaved.get(_key(stored))
    if unsaved is None:
        return stored
    spent = unsaved.stored.tokens.refresh_token if unsaved.stored.tokens else None
    if stored.tokens is None or stored.tokens.refresh_token != spent:
        # The store moved on (a new login, the Codex CLI's own refresh): it wins.
        log.warning("Profile %r changed on disk; dropping the refreshed tokens that could not be saved",
                    stored.name)
        _forget(_key(stored))
        return stored
    # Keep the store's fingerprint so the hot path still needs only a stat.
    return dataclasses.replace(stored, tokens=unsaved.tokens)


def _forget(key: _UnsavedKey) -> None:
    with _unsaved_lock:
        _unsaved.pop(key, None)


def _save(stored: Snapshot, fresh: TokenSet, now: float) -> bool:
    """Save ``fresh`` over ``stored``; on a failed write keep them in memory. False: the store moved on."""
    target = _fs.write_target(stored.linked or stored.config)
    error: Exception | None = None
    for attempt in range(2):  # a second try right away: some failures pass (a write racing a cleanup)
        try:
            saved = save_tokens(stored, fresh, now=now)
        except (OSError, ConfigError, _fs.LockTimeout) as exc:
            error = exc
            if attempt == 0:
                time.sleep(0.05)
            continue
        if _key(stored) in _unsaved:
            log.warning("Saved the refreshed login of profile %r to %s at last", stored.name, target)
        _forget(_key(stored))
        return saved
    assert error is not None
    _keep(stored, fresh, target, error)
    return True


def _keep(stored: Snapshot, fresh: TokenSet, target: Path, error: Exception) -> None:
    mono = time.monotonic()
    with _unsaved_lock:
        previous = _unsaved.get(_key(stored))
        warned_at = previous.warned_at if previous is not None else -WARN_EVERY
        loud = mono - warned_at >= WARN_EVERY
        _unsaved[_key(stored)] = _Unsaved(fresh, stored, target, next_try=mono + RESAVE_EVERY,
                                          warned_at=mono if loud else warned_at)
    if loud:
        log.warning("Could not save the refreshed login of profile %r to %s: %s. This process keeps using "
                    "the new tokens and retries the save; if it exits before a save succeeds, the login is "
                    "lost and you must run `kabot login` — fix: %s",
                    stored.name, target, _describe(error), _fix(error, target))


def _resave(unsaved: _Unsaved) -> None:
    """Retry saving tokens kept in memory (under the refresh lock, so no refresh races it)."""
    try:
        with _fs.file_lock(unsaved.stored.lock_path, timeout=5.0):
            stored = _overlay(load_snapshot(unsaved.stored.name, unsaved.stored.config))
            if stored.tokens is not unsaved.tokens:
                return  # the store moved on and _overlay dropped ours (with a warning)
            _save(unsaved.stored, unsaved.tokens, unsaved.tokens.last_refresh or time.time())
    except NotLoggedInError:
        log.warning("Profile %r was logged out; dropping its refreshed tokens that could not be saved",
                    unsaved.stored.name)
        _forget(_key(unsaved.stored))
    except (OSError, KabotError, _fs.LockTimeout) as exc:
        _keep(unsaved.stored, unsaved.tokens, unsaved.target, exc)


def save_pending() -> bool:
    """Retry every failed save now; return True if nothing is left unsaved (at exit; tests)."""
    with _unsaved_lock:
        pending = list(_unsaved.values())
    for unsaved in pending:
        _resave(unsaved)
    return not _unsaved


def _save_pending_at_exit() -> None:
    if not _unsaved or save_pending():
        return
    for unsaved in list(_unsaved.values()):
        log.error("The refreshed login of profile %r could not be saved to %s before exit; the stored refresh "
                  "token is spent, so run `kabot login` once %s is writable", unsaved.stored.name,
                  unsaved.target, unsaved.target.parent)


atexit.register(_save_pending_at_exit)


def session_for(name: str | None) -> ProfileSession:
    """Return the process-wide session of profile ``name`` (``None``: the active profile)."""
    with _sessions_lock:
        session = _sessions.get(name)
        if session is None:
            session = _sessions[name] = ProfileSession(name)
        return session


def reset_sessions() -> None:
    """Forget every cached session (after logout or re-login, and between tests)."""
    with _sessions_lock:
        _sessions.clear()
