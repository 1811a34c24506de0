"""Atomic, private file writes and cross-process locks.

Every file kabot-codex writes (config, state, a linked Codex ``auth.json``) goes through
``atomic_write_json`` so a reader never sees a torn file and a crash leaves either the old
or the new content.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from kabot_codex.errors import ConfigError

__all__ = ["LockTimeout", "atomic_write_json", "atomic_write_text", "ensure_private_dir", "file_lock",
           "merge_json_later", "read_json", "wait_for_writes"]

FILE_MODE = 0o600
DIR_MODE = 0o700
LockTimeout = Timeout


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 if it does not exist yet."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
        # mkdir honours the umask; make the leaf private regardless.
        os.chmod(path, DIR_MODE)


def atomic_write_text(path: Path, text: str, *, mode: int = FILE_MODE) -> None:
    """Write ``text`` to ``path`` atomically: temp file in the same dir, fsync, rename."""
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
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} at {path}: {exc.strerror}",
                          hint="check the file's permissions") from exc
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The {what} at {path} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
            "it was left untouched",
            hint=f"fix or move {path} aside, then run the command again",
        ) from exc


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive cross-process lock on ``<path>.lock`` for the block."""
    ensure_private_dir(path.parent)
    lock = FileLock(str(path) + ".lock", timeout=timeout, mode=FILE_MODE)
    with lock:
        yield


_writers: list[threading.Thread] = []
_writers_lock = threading.Lock()


def _merge_json(path: Path, update: Callable[[dict[str, Any]], None]) -> None:
    try:
        with file_lock(path, timeout=2.0):
            try:
                current = read_json(path, what="kabot state")
            except ConfigError:
                current = None  # these files are caches: a damaged one is replaced, never fatal
            current = current if isinstance(current, dict) else {}
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
