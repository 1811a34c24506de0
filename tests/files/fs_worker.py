"""Child process of the file-system fault tests: runs inside a private mount namespace.

``unshare -m python -m tests.files.fs_worker '<json args>'`` — the worker mounts the fault
itself (a 64 KiB tmpfs filled to the brim, or a read-only bind mount) over ``KABOT_HOME``, so
nothing outside the namespace is affected, then makes real LiteLLM calls against the
emulator and prints one JSON line describing what happened. Log records of ``kabot_codex``
are collected so the test can check the warnings.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MODEL = "openai-codex/gpt-5.5"
records: list[str] = []


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        records.append(record.getMessage())


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _stored_refresh_token(home: Path, profile: str = "default") -> str | None:
    data = json.loads((home / "config.json").read_text())
    return data["providers"]["openai-codex"]["profiles"][profile].get("refresh_token")


def _call(**extra: Any) -> dict[str, Any]:
    import litellm

    started = time.perf_counter()
    try:
        response = litellm.completion(model=MODEL, messages=[{"role": "user", "content": "hi"}], **extra)
    except Exception as exc:
        return {"ok": False, "type": type(exc).__name__, "message": str(exc),
                "status": getattr(exc, "status_code", None), "seconds": time.perf_counter() - started}
    return {"ok": True, "content": response.choices[0].message.content, "seconds": time.perf_counter() - started}


def _fill(path: Path) -> int:
    written = 0
    with open(path, "wb", buffering=0) as fh:
        while True:
            try:
                written += fh.write(b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return written


def full_disk(args: dict[str, Any]) -> dict[str, Any]:
    home = Path(args["home"])
    _mount("-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(home))
    (home / "config.json").write_text(json.dumps(args["config"]))
    os.chmod(home / "config.json", 0o600)
    filled = _fill(home / "filler")
    import kabot_codex  # noqa: F401  registers the provider
    from kabot_codex.auth.session import RESAVE_EVERY

    out: dict[str, Any] = {"filled": filled, "calls": [_call(), _call()]}
    out["stored_while_full"] = _stored_refresh_token(home)
    out["warnings_while_full"] = list(records)
    (home / "filler").unlink()
    time.sleep(RESAVE_EVERY + 0.2)
    out["calls"].append(_call())
    out["stored_after_space_came_back"] = _stored_refresh_token(home)
    out["leftovers"] = sorted(p.name for p in home.iterdir() if p.name.endswith(".tmp"))
    out["mode"] = oct((home / "config.json").stat().st_mode & 0o777)
    # Prove the saved refresh token is the live one: a real refresh with it must succeed.
    from kabot_codex.auth import oauth
    from kabot_codex.auth.store import load_snapshot

    snapshot = load_snapshot(None)
    assert snapshot.tokens is not None
    try:
        oauth.refresh(snapshot.tokens, now=time.time())
        out["stored_token_is_live"] = True
    except Exception as exc:
        out["stored_token_is_live"] = f"{type(exc).__name__}: {exc}"
    out["warnings"] = list(records)
    return out


def read_only(args: dict[str, Any]) -> dict[str, Any]:
    home = Path(args["home"])
    _mount("--bind", str(home), str(home))
    _mount("-o", "remount,bind,ro", str(home))
    try:
        (home / "probe").touch()
        probe = "writable"
    except OSError as exc:
        probe = errno.errorcode.get(exc.errno or 0, "?")
    import kabot_codex  # noqa: F401

    out: dict[str, Any] = {"probe": probe}
    out["fresh"] = _call(kabot_profile="fresh")
    out["due"] = _call(kabot_profile="due")  # valid, inside the refresh window
    out["due_again"] = _call(kabot_profile="due")
    out["expired"] = _call(kabot_profile="expired")
    status = subprocess.run([sys.executable, "-c", "from kabot_codex.wizard.cli import main; main()", "status"],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    out["status"] = {"rc": status.returncode, "out": status.stdout + status.stderr}
    out["warnings"] = list(records)
    return out


def not_writable(args: dict[str, Any]) -> dict[str, Any]:
    # Runs as an unprivileged user (root ignores modes): the home and config.json belong to
    # root and are only readable; the refresh lock file was left writable.
    home = Path(args["home"])
    import kabot_codex  # noqa: F401

    out: dict[str, Any] = {"uid": os.getuid(), "calls": [_call(), _call()]}
    out["stored"] = _stored_refresh_token(home)
    out["warnings"] = list(records)
    return out


SCENARIOS = {"full-disk": full_disk, "read-only": read_only, "not-writable": not_writable}


def main() -> None:
    args = json.loads(sys.argv[1])
    logging.getLogger("kabot_codex").addHandler(_Collect())
    logging.getLogger("kabot_codex").addHandler(logging.StreamHandler())  # stderr, like an app's logging
    logging.getLogger("kabot_codex").setLevel(logging.INFO)
    print(json.dumps(SCENARIOS[args["scenario"]](args)), flush=True)


if __name__ == "__main__":
    main()
