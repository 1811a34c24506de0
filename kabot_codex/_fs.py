"""Atomic, private file writes, cross-process locks, and reading files we may not trust.

Every file kabot-codex writes (config, state, a linked Codex ``auth.json``) goes through
``atomic_write_text`` so a reader never sees a torn file and a crash leaves either the old
or the new content. A symlinked file is written through to its target (dotfiles setups), so
the link survives and whatever else reads the target sees the new content.

Reading distinguishes files the user owns (config, credentials: a damaged one is reported
and kept) from caches we own (``state/``: a damaged one is set aside and rebuilt). Why and
what is guaranteed: docs/internals/files.md and docs/reliability.md.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import glob
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from kabot_codex.errors import ConfigError

__all__ = ["LockTimeout", "LockUnavailable", "atomic_write_json", "atomic_write_text", "ensure_private_dir",
           "file_lock", "json_type", "loose_permissions", "merge_json_later", "read_json", "read_state", "tighten_dir",
           "wait_for_writes", "write_fix", "write_target"]

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
LockTimeout = Timeout


class LockUnavailable(OSError):
    """The lock file cannot be created or opened (read-only, full or foreign-owned directory)."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 if it does not exist yet."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
        # mkdir honours the umask; make the leaf private regardless.
        os.chmod(path, DIR_MODE)


def write_target(path: Path) -> Path:
    """Return the file a write to ``path`` must replace: the final target if ``path`` is a symlink.

    Renaming over the link itself would turn it into a plain file and leave its target (the
    dotfiles copy, the Codex CLI's own ``auth.json``) with stale data.
    """
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))  # follows chains; a dangling link names the file to create


def atomic_write_text(path: Path, text: str, *, mode: int = FILE_MODE) -> None:
    """Write ``text`` to ``path`` atomically: temp file in the target's dir, fsync, rename.

    A symlink is followed: its target is replaced (with ``mode``), the link is left alone.
    """
    path = write_target(path)
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename is only durable once the directory entry is flushed too.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    _sweep_leftovers(path)


STALE_TEMP_AGE = 600.0
"""A temp file this old (seconds) belongs to no live writer: a write takes milliseconds."""


def _sweep_leftovers(path: Path) -> None:
    # A writer killed between mkstemp and rename leaves its temp file behind: private, but
    # clutter that may hold tokens. Remove the ones no live writer can still own.
    cutoff = time.time() - STALE_TEMP_AGE
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()


def atomic_write_json(path: Path, data: Any, *, mode: int = FILE_MODE) -> None:
    """Serialise ``data`` as pretty JSON and write it atomically with ``mode``."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=mode)


def read_json(path: Path, *, what: str = "file") -> Any | None:
    """Return the parsed JSON in ``path``, ``None`` if it does not exist.

    A file that exists but is not valid JSON raises ``ConfigError``; it is never treated as
    empty, because the caller would then overwrite the user's data.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The {what} at {path} is not UTF-8 text (bad byte at offset {exc.start}); it was left untouched",
            hint=f"fix or move {path} aside (JSON files must be UTF-8), then run the command again",
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} at {path}: {exc.strerror}",
                          hint=f"check the permissions of {path}") from None
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The {what} at {path} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
            "it was left untouched",
            hint=f"fix or move {path} aside, then run the command again",
        ) from None


def _set_aside(path: Path, why: str, what: str) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        log.warning("The %s at %s is damaged (%s) and could not be moved aside (%s); it is ignored",
                    what, path, why, exc.strerror)
        return
    log.warning("The %s at %s was damaged (%s); moved it to %s and starting afresh (it is a cache)",
                what, path, why, aside.name)


def read_state(path: Path, *, what: str = "kabot state") -> dict[str, Any]:
    """Return the JSON object in a cache file we own (``state/``); ``{}`` if absent or unusable.

    A damaged file (not UTF-8, not JSON, not an object) is renamed ``<name>.corrupt-<UTC time>``
    with a warning, so it is rebuilt instead of failing every call — and kept for a look. An
    unreadable one (permissions) is ignored, never moved.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return {}  # absent, or unreadable (permissions): ignored, never moved
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        _set_aside(path, "not UTF-8", what)
        return {}
    except ValueError:
        _set_aside(path, "not valid JSON", what)
        return {}
    if not isinstance(data, dict):
        _set_aside(path, f"a JSON {json_type(data)}, not an object", what)
        return {}
    return data


def json_type(value: Any) -> str:
    """Name ``value``'s JSON type (for messages that must not echo the value itself)."""
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def write_fix(exc: OSError, path: Path) -> str:
    """The fix for a failed write of ``path``, by cause."""
    where = path.parent
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"free some space on the file system holding {where}"
    if exc.errno == errno.EROFS:
        return (f"{where} is on a read-only file system: remount it read-write, or set KABOT_HOME "
                "to a writable directory")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"make {where} and {path.name} writable by this user (see `ls -ld {where}`)"
    return f"check that {where} is writable"


def _not_ours(path: Path) -> bool:
    # KABOT_HOME may point at a directory we did not create (the home directory itself): its
    # mode is the user's business.
    try:
        return path.is_dir() and path.resolve() == Path.home().resolve()
    except (OSError, RuntimeError):
        return True


def loose_permissions(path: Path) -> list[str]:
    """Describe how ``path`` (a private file or dir) is open to other users, with the fix; [] if private."""
    if _not_ours(path):
        return []
    try:
        st = os.stat(path)
    except OSError:
        return []
    if not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return []
    kind, want = ("directory", DIR_MODE) if stat.S_ISDIR(st.st_mode) else ("file", FILE_MODE)
    return [f"the {kind} {path} is open to other users (mode {oct(stat.S_IMODE(st.st_mode))[2:]}): kabot "
            f"tightens it on its next write, or run `chmod {oct(want)[2:]} {path}`"]


def tighten_dir(path: Path) -> None:
    """Make ``path`` (a kabot home) 0700 if other users can reach into it; best effort."""
    if _not_ours(path):
        return
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(path, DIR_MODE)


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive cross-process lock on ``<path>.lock`` for the block.

    Raises ``LockTimeout`` if another holder keeps it past ``timeout`` and ``LockUnavailable``
    (an ``OSError`` naming the lock file) if the lock file cannot be created or opened.
    """
    lock_file = str(path) + ".lock"
    lock = FileLock(lock_file, timeout=timeout, mode=FILE_MODE)
    try:
        ensure_private_dir(path.parent)
        lock.acquire()
    except Timeout:
        raise
    except OSError as exc:
        raise LockUnavailable(exc.errno, exc.strerror, lock_file) from None
    try:
        yield
    finally:
        lock.release()


_writers: list[threading.Thread] = []
_writers_lock = threading.Lock()


def _merge_json(path: Path, update: Callable[[dict[str, Any]], None]) -> None:
    try:
        with file_lock(path, timeout=2.0):
            current = read_state(path)  # a cache: a damaged one is set aside and rebuilt
            update(current)
            atomic_write_json(path, current)
    except (OSError, Timeout):
        pass  # a cache that could not be written must never fail the call that fed it


def merge_json_later(path: Path, update: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``update`` to the JSON object in ``path`` under its lock, on a background thread.

    For state recorded on the request path (often inside an event loop), where waiting for
    another process's lock or an fsync must not delay the call. Concurrent processes keep
    each other's entries because the merge happens under the lock.
    """
    writer = threading.Thread(target=_merge_json, args=(path, update), name="kabot-codex-state", daemon=True)
    with _writers_lock:
        _writers[:] = [w for w in _writers if w.is_alive()]
        _writers.append(writer)
    writer.start()


def wait_for_writes(timeout: float = 5.0) -> None:
    """Wait for background merges started so far (at exit; tests)."""
    with _writers_lock:
        writers = list(_writers)
    for writer in writers:
        writer.join(timeout)


atexit.register(wait_for_writes)
