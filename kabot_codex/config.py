"""The kabot config file: its schema, where it lives, and the one function that writes it.

``$KABOT_HOME/config.json`` (default: the platform's user config dir for ``kabot``) holds
credentials under ``providers["openai-codex"].profiles`` and the model order under
``agents.defaults.model``. Keys this package does not know are kept on every write, so the
file can be shared with kabot itself and with other tools.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kabot_codex import _fs
from kabot_codex.errors import ConfigError

__all__ = [
    "CODEX_PROVIDER",
    "CREDENTIAL_ENV",
    "AgentDefaults",
    "AgentsConfig",
    "AuthProfile",
    "KabotConfig",
    "ModelOrder",
    "ProviderConfig",
    "config_path",
    "edit_config",
    "kabot_home",
    "load_config",
    "state_dir",
]

CODEX_PROVIDER = "openai-codex"

#: Every environment variable through which a real login or endpoint reaches kabot-codex.
#: Offline runs (the test suite, the offline smoke, the benchmark) clear all of them.
CREDENTIAL_ENV = (
    "OPENAI_CODEX_API_KEY",
    "OPENAI_API_KEY",
    "KABOT_PROFILE",
    "CODEX_HOME",
    "OPENAI_CODEX_API_BASE",
    "OPENAI_CODEX_AUTH_BASE",
    "OPENAI_CODEX_OPENAI_BASE",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
)


def kabot_home() -> Path:
    """Return the directory holding config and state (``$KABOT_HOME`` wins)."""
    env = os.environ.get("KABOT_HOME")
    if env:
        return Path(env).expanduser()
    return _default_home()


@functools.cache
def _default_home() -> Path:
    # Asked on every model call (the credential cache checks its file); platformdirs is slow
    # enough to double that check, and the answer cannot change within a process.
    import platformdirs

    return Path(platformdirs.user_config_dir("kabot", appauthor=False))


def config_path() -> Path:
    """Return the path of ``config.json``."""
    return kabot_home() / "config.json"


def state_dir() -> Path:
    """Return the directory for runtime state (rate limits, verified models, caches)."""
    return kabot_home() / "state"


class _Open(BaseModel):
    # Unknown keys survive a load/save round trip: the file is shared with other tools.
    model_config = ConfigDict(extra="allow", validate_assignment=True)


class AuthProfile(_Open):
    """One set of credentials. Secrets are excluded from ``repr``."""

    method: str = Field(description="browser | device | codex-link | codex-copy | api-key")
    access_token: str | None = Field(default=None, repr=False)
    refresh_token: str | None = Field(default=None, repr=False)
    id_token: str | None = Field(default=None, repr=False)
    api_key: str | None = Field(default=None, repr=False)
    account_id: str | None = Field(default=None, repr=False)
    expires_at: float | None = Field(default=None, description="access-token expiry, epoch seconds")
    email: str | None = None
    plan: str | None = None
    codex_auth_file: str | None = Field(default=None, description="link mode: the Codex CLI auth.json")
    last_refresh: float | None = None
    created_at: float | None = None


class ProviderConfig(_Open):
    """Settings and credentials of one provider."""

    profiles: dict[str, AuthProfile] = Field(default_factory=dict)
    active_profile: str = "default"
    api_key: str | None = Field(default=None, repr=False)
    api_base: str | None = None


class ModelOrder(_Open):
    """Primary model then fallbacks, tried in order."""

    primary: str
    fallbacks: list[str] = Field(default_factory=list)

    def __getitem__(self, key: str) -> Any:  # kabot's own code indexes it like a dict
        return getattr(self, key)

    def models(self) -> list[str]:
        """Return primary then fallbacks, without duplicates."""
        seen: list[str] = []
        for model in [self.primary, *self.fallbacks]:
            if model not in seen:
                seen.append(model)
        return seen


class AgentDefaults(_Open):
    """Defaults shared by every agent."""

    model: ModelOrder | str | None = None

    def model_order(self) -> ModelOrder | None:
        """Return the model setting as a ``ModelOrder`` (a bare string has no fallbacks)."""
        if isinstance(self.model, str):
            return ModelOrder(primary=self.model)
        return self.model


class AgentsConfig(_Open):
    """The ``agents`` section."""

    defaults: AgentDefaults = Field(default_factory=AgentDefaults)


class KabotConfig(_Open):
    """The whole config file."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)

    def provider(self, name: str) -> ProviderConfig:
        """Return the provider section, creating an empty one if absent."""
        if name not in self.providers:
            self.providers[name] = ProviderConfig()
        return self.providers[name]

    @property
    def codex(self) -> ProviderConfig:
        """The ``providers["openai-codex"]`` section."""
        return self.provider(CODEX_PROVIDER)


def _parse(data: Any, path: Path) -> KabotConfig:
    if data is None:
        return KabotConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; it was left untouched",
                          hint=f"fix or move {path} aside")
    try:
        return KabotConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ConfigError(f"{path} has invalid settings ({problems}); it was left untouched",
                          hint=f"fix {path} or rerun `kabot setup`") from exc


def load_config(path: Path | None = None) -> KabotConfig:
    """Read the config (an empty one if the file does not exist). Never writes."""
    path = path or config_path()
    return _parse(_fs.read_json(path, what="kabot config"), path)


def _dump(config: KabotConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


@contextlib.contextmanager
def edit_config(path: Path | None = None, *, timeout: float = 30.0) -> Iterator[KabotConfig]:
    """Load, let the caller change, then atomically save the config — the only config writer.

    The file is locked for the whole block so concurrent editors (another process refreshing a
    token, the wizard) never lose each other's changes. If the block raises, nothing is written.
    A corrupt file raises ``ConfigError`` and is never overwritten.
    """
    path = path or config_path()
    with _fs.file_lock(path, timeout=timeout):
        config = _parse(_fs.read_json(path, what="kabot config"), path)
        before = _dump(config)
        yield config
        # Re-validate: assignments inside the block may have bypassed nested validation.
        after = _dump(KabotConfig.model_validate(_dump(config)))
        if after != before or not path.exists():
            _fs.atomic_write_json(path, after)
