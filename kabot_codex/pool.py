"""An account pool: several kabot profiles (ChatGPT accounts) serving the primary model.

The Router does the spreading (one deployment per profile, see ``routing.model_list``); this
module answers "how much room does each account have left", from the rate-limit snapshots
the provider records and the usage limits it remembers (``kabot_codex.state``).
"""

from __future__ import annotations

import time
from typing import Any

from kabot_codex import state
from kabot_codex.config import KabotConfig, load_config

__all__ = ["pool_headroom"]


def _headroom(snapshot: dict[str, Any] | None) -> tuple[float | None, str | None, float | None]:
    """(percent left in the tightest window, that window's label, its reset time)."""
    best: tuple[float | None, str | None, float | None] = (None, None, None)
    for name in ("primary", "secondary"):
        window = (snapshot or {}).get(name)
        if not isinstance(window, dict) or not isinstance(window.get("used_percent"), (int, float)):
            continue
        left = max(0.0, 100.0 - float(window["used_percent"]))
        if best[0] is None or left < best[0]:
            minutes = window.get("window_minutes")
            label = (f"{minutes / 1440:.0f}d" if minutes >= 1440 else f"{minutes / 60:.0f}h") \
                if isinstance(minutes, (int, float)) and minutes > 0 else name
            reset = window.get("reset_at")
            best = (left, label, float(reset) if isinstance(reset, (int, float)) else None)
    return best


def pool_headroom(config: KabotConfig | None = None, *, now: float | None = None) -> list[dict[str, Any]]:
    """One row per pool profile: headroom in its tightest window and any remembered usage limit.

    Never a secret: no token and no account id, only the profile name and percentages.
    """
    from kabot_codex.auth.store import snapshot_of
    from kabot_codex.config import config_path
    from kabot_codex.errors import KabotError

    config = config or load_config()
    now = time.time() if now is None else now
    snapshots = state.last_rate_limits()
    rows = []
    for name in config.agents.defaults.pool_profiles():
        row: dict[str, Any] = {"profile": name, "headroom_percent": None, "window": None, "resets_at": None,
                               "limited_until": None, "error": None}
        profile = config.codex.profiles.get(name)
        if profile is None:
            row["error"] = f"no login (run `kabot login --profile {name}`)"
            rows.append(row)
            continue
        try:
            account_key = snapshot_of(name, profile, config_path()).credentials.account_key
        except KabotError as err:
            row["error"] = err.message
            rows.append(row)
            continue
        row["limited_until"] = state.blocked_until(account_key, now=now)
        left, label, reset = _headroom(snapshots.get(name))
        row.update(headroom_percent=0.0 if row["limited_until"] else left, window=label, resets_at=reset)
        rows.append(row)
    return rows
