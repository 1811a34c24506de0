"""The models the wizard offers, with their status, and the default order.

Default primary: when the account's live list loaded, the best listed model that is not
``unsupported``. Otherwise the plan's order (primary ``openai-codex/gpt-5.3-codex``) — except
that the bundled snapshot knows gpt-5.3-codex was retired for ChatGPT accounts in June 2026,
so a known-unsupported plan primary is replaced by the best bundled model and the wizard says
why. The fallbacks default to ``openai/gpt-5.2-codex`` then ``openai/gpt-4o-mini``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kabot_codex.catalog import ModelSpec, all_specs, get_model_status
from kabot_codex.catalog.account import AccountView

__all__ = ["PLAN_FALLBACKS", "PLAN_PRIMARY", "SAME_ACCOUNT_NOTE", "DefaultOrder", "ModelRow", "default_order",
           "fallback_rows", "model_rows", "status_of"]

PLAN_PRIMARY = "openai-codex/gpt-5.3-codex"
PLAN_FALLBACKS: tuple[str, ...] = ("openai/gpt-5.2-codex", "openai/gpt-4o-mini")

#: Shown next to a fallback that shares the primary's account, hence its usage limit.
SAME_ACCOUNT_NOTE = "same account"

_MARKS = {"working": "✓", "catalog": "•", "unsupported": "✗", "unknown": "?"}


@dataclass(frozen=True)
class ModelRow:
    """One model as offered in a picker."""

    spec: ModelSpec
    status: str
    note: str = ""

    @property
    def model(self) -> str:
        """``provider/slug``."""
        return self.spec.model

    @property
    def title(self) -> str:
        """What the picker shows: status mark, model, context and notes.

        No display name: it restates the model and would push the line past 80 columns, where
        the picker crops it.
        """
        extra = " · text only" if not self.spec.supports_vision else ""
        if self.spec.retired and self.status == "unsupported":
            extra += " · retired"
        if self.note:
            extra += f" · {self.note}"
        return f"{_MARKS[self.status]} {self.model}  ({self.spec.context_window // 1000}k{extra})"


@dataclass(frozen=True)
class DefaultOrder:
    """The suggested order and, when it differs from the plan, why."""

    primary: str
    fallbacks: tuple[str, ...]
    note: str | None = None


def status_of(model: str, account: AccountView) -> str:
    """The model's status for this account (``openai/*`` records are not per account)."""
    key = account.account_key if model.startswith("openai-codex/") else None
    return get_model_status(model, key, auth_mode=account.auth_mode if key else None)


def model_rows(account: AccountView, listed: frozenset[str] | set[str] | None) -> list[ModelRow]:
    """Models to offer, best first: usable Codex models, OpenAI API models, then unsupported ones.

    ``listed`` is the account's live list (None: not loaded); with it, Codex models the
    backend did not list are left out unless we know something about them.
    """
    usable: list[ModelRow] = []
    api: list[ModelRow] = []
    bad: list[ModelRow] = []
    for spec in all_specs():
        status = status_of(spec.model, account)
        row = ModelRow(spec, status)
        if spec.provider != "openai-codex":
            api.append(row)
        elif status == "unsupported":
            bad.append(row)
        elif listed is None or spec.model in listed or status == "working":
            usable.append(row)
    return usable + api + bad


def default_order(rows: list[ModelRow], *, live: bool) -> DefaultOrder:
    """Return the suggested primary and fallbacks (see the module docstring)."""
    by_model = {row.model: row for row in rows}
    codex_ok = [r for r in rows if r.spec.provider == "openai-codex" and r.status != "unsupported"]
    fallbacks = PLAN_FALLBACKS
    if live and codex_ok:
        primary = codex_ok[0].model
        return DefaultOrder(primary, tuple(m for m in fallbacks if m != primary))
    plan = by_model.get(PLAN_PRIMARY)
    if (plan is None or plan.status == "unsupported") and codex_ok:
        best = codex_ok[0]
        why = plan.spec.retired_note if plan is not None and plan.spec.retired else "not available"
        note = (f"The plan's default primary {PLAN_PRIMARY} is unsupported ({why}); "
                f"suggesting {best.model} ({best.spec.display_name}) instead.")
        return DefaultOrder(best.model, tuple(m for m in fallbacks if m != best.model), note)
    return DefaultOrder(PLAN_PRIMARY, fallbacks)


def fallback_rows(rows: list[ModelRow], primary: str) -> tuple[list[ModelRow], frozenset[str]]:
    """The fallback choices for ``primary``, most useful first, and which of them share its account.

    A usage limit is per account, not per model: when the primary hits it, every model of the
    same provider login hits it too. Models of another provider (an OpenAI API key for
    ``openai/*``) are therefore offered first; same-account models come last, flagged, since
    they still help when only the primary fails (an outage, a model the backend rejects).
    """
    provider = primary.split("/", 1)[0]
    others = [r for r in rows if r.model != primary and r.spec.provider != provider]
    # ✗ rows already say they do not work; the note is for the ones that would.
    same = [dataclasses.replace(r, note=SAME_ACCOUNT_NOTE if r.status != "unsupported" else "") for r in rows
            if r.model != primary and r.spec.provider == provider]
    return others + same, frozenset(r.model for r in same)
