"""Which models exist, what they can do, and whether this account can use them.

The bundled snapshot (``kabot_codex/data/models.json``) covers every model offline; a live
``/models`` refresh (``kabot models --refresh``) is cached in ``KABOT_HOME`` and merged over
it. The provider reads specs, clamps reasoning efforts and records call outcomes here; the
wizard and ``kabot models`` read statuses.
"""

from __future__ import annotations

from kabot_codex.catalog.account import AccountView, current_account
from kabot_codex.catalog.metadata import litellm_model_metadata, model_info_for
from kabot_codex.catalog.spec import EFFORT_ORDER, ModelSpec, canonical_model
from kabot_codex.catalog.status import (
    Status,
    get_model_status,
    model_status,
    note_success,
    note_unsupported,
)
from kabot_codex.catalog.store import all_specs, bundled_specs, get_spec, reload

__all__ = [
    "EFFORT_ORDER",
    "AccountView",
    "ModelSpec",
    "Status",
    "all_specs",
    "bundled_specs",
    "canonical_model",
    "clamp_effort",
    "current_account",
    "get_model_status",
    "get_spec",
    "litellm_model_metadata",
    "model_info_for",
    "model_status",
    "note_success",
    "note_unsupported",
    "reload",
]


def clamp_effort(model: str, effort: str | None) -> str | None:
    """Return the effort to send for ``model``: ``effort`` moved to the nearest supported one.

    ``None`` stays ``None``; an unknown model gets ``effort`` unchanged (the backend decides);
    a model without a reasoning knob gets ``None``.
    """
    if effort is None:
        return None
    spec = get_spec(model)
    if spec is None:
        return effort
    return spec.clamp(effort)
