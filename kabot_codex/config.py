"""The kabot config file: its schema, where it lives, and the one function that writes it.

``$KABOT_HOME/config.json`` (default: the platform's user config dir for ``kabot``) holds
credentials under ``providers["openai-codex"].profiles`` and the model order under
``agents.defaults.model``. Keys this package does not know are kept on every write (``null``
values included), so the file can be shared with kabot itself and with other tools.

Only our own section, ``providers["openai-codex"]``, is validated when the file is read.
Other tools' provider sections are kept exactly as they are, whatever their shape, and the
model order is checked when something asks for it (``AgentDefaults.model_order``): a broken
setting elsewhere in the file must not stop a model call that does not use it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

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
    "permission_warnings",
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
    return _layout()[0]


def _layout() -> tuple[Path, Path, Path]:
    # Home, config.json and state dir are asked for several times on every model call; building
    # the Paths anew each time was a measurable part of the provider's own per-call CPU
    # (docs/performance.md). Cached per value of $KABOT_HOME (and $HOME when it expands "~"),
    # so changing either still takes effect at once.
    env = os.environ.get("KABOT_HOME") or ""
    return _layout_for(env, os.environ.get("HOME", "") if env.startswith("~") else "")


@functools.lru_cache(maxsize=16)
def _layout_for(env: str, _home: str) -> tuple[Path, Path, Path]:
    base = Path(env).expanduser() if env else _default_home()
    return base, base / "config.json", base / "state"


@functools.cache
def _default_home() -> Path:
    # Asked on every model call (the credential cache checks its file); platformdirs is slow
    # enough to double that check, and the answer cannot change within a process.
    import platformdirs

    return Path(platformdirs.user_config_dir("kabot", appauthor=False))


def config_path() -> Path:
    """Return the path of ``config.json``."""
    return _layout()[1]


def state_dir() -> Path:
    """Return the directory for runtime state (rate limits, verified models, caches)."""
    return _layout()[2]


class _Open(BaseModel):
    # Unknown keys survive a load/save round trip: the file is shared with other tools.
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    @model_serializer(mode="wrap")
    def _keep_foreign_nulls(self, handler: SerializerFunctionWrapHandler) -> Any:
        # The writer dumps with exclude_none (our unset fields stay out of the file), which would
        # also drop another tool's `"key": null`; put those back.
        data = handler(self)
        if isinstance(data, dict):
            for key, value in (self.__pydantic_extra__ or {}).items():
                if value is None and key not in data:
                    data[key] = None
        return data


def _problems(exc: ValidationError, prefix: str = "") -> str:
    return "; ".join(f"{prefix}{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5])


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

    # Checked by model_order(), not on load: a model call with explicit credentials and model
    # has no use for it, and kabot itself may write shapes this package does not know yet.
    model: Any = Field(default=None, description="a ModelOrder, a bare model string, or absent")
    # Like ``model``: checked by pool_profiles() when a Router is built, not on every load.
    pool: Any = Field(default=None, description="kabot profiles (ChatGPT accounts) that each serve the primary")

    def model_order(self) -> ModelOrder | None:
        """Return the model setting as a ``ModelOrder`` (a bare string has no fallbacks).

        Raises ``ConfigError`` naming ``agents.defaults.model`` if the saved value is not one.
        """
        model = self.model
        if model is None or isinstance(model, ModelOrder):
            return model
        if isinstance(model, str) and model:
            return ModelOrder(primary=model)
        try:
            return ModelOrder.model_validate(model)
        except ValidationError as exc:
            problems = _problems(exc, "agents.defaults.model.") if isinstance(model, dict) else \
                f"agents.defaults.model: a JSON {_fs.json_type(model)}, not a model order"
            raise ConfigError(f"The saved model order is invalid ({problems})",
                              hint="rerun `kabot setup`, or fix agents.defaults.model in config.json "
                                   '(e.g. {"primary": "openai-codex/gpt-5.5", "fallbacks": []})') from None


    def pool_profiles(self) -> list[str]:
        """Return the account pool (``kabot setup --pool``), without duplicates; empty if none.

        Raises ``ConfigError`` naming ``agents.defaults.pool`` if the saved value is not a list of names.
        """
        pool = self.pool
        if pool is None:
            return []
        if not isinstance(pool, list) or not all(isinstance(p, str) and p for p in pool):
            raise ConfigError(f"The saved account pool is invalid (agents.defaults.pool: a JSON "
                              f"{_fs.json_type(pool)}, not a list of profile names)",
                              hint='rerun `kabot setup --pool PROFILE ...`, or fix agents.defaults.pool in '
                                   'config.json (e.g. ["alice", "bob"])')
        return list(dict.fromkeys(pool))


class AgentsConfig(_Open):
    """The ``agents`` section."""

    defaults: AgentDefaults = Field(default_factory=AgentDefaults)


class KabotConfig(_Open):
    """The whole config file."""

    # Values are ProviderConfig once used through provider(); other tools' sections stay raw.
    providers: dict[str, Any] = Field(default_factory=dict)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    _path: Path | None = PrivateAttr(default=None)

    def provider(self, name: str) -> ProviderConfig:
        """Return the provider section, creating an empty one if absent.

        Raises ``ConfigError`` if the saved section is not a valid provider section.
        """
        section = self.providers.get(name)
        if isinstance(section, ProviderConfig):
            return section
        where = f"providers.{name} in {self._path or 'config.json'}"
        if section is None:
            section = ProviderConfig()
        elif not isinstance(section, dict):
            raise ConfigError(f"{where} is a JSON {_fs.json_type(section)}, not an object; it was left untouched",
                              hint=f"fix or remove providers.{name} in {self._path or 'config.json'}")
        else:
            try:
                section = ProviderConfig.model_validate(section)
            except ValidationError as exc:
                raise ConfigError(f"{self._path or 'config.json'} has invalid settings "
                                  f"({_problems(exc, f'providers.{name}.')}); it was left untouched",
                                  hint=f"fix that setting in {self._path or 'config.json'}, or move the file "
                                       "aside and run `kabot login` again") from None
        self.providers[name] = section
        return section

    def existing_provider(self, name: str) -> ProviderConfig | None:
        """Return the provider section if the file has a usable one, else ``None`` (never raises)."""
        if name not in self.providers:
            return None
        try:
            return self.provider(name)
        except ConfigError:
            return None  # another tool's section in a shape we do not use

    @property
    def codex(self) -> ProviderConfig:
        """The ``providers["openai-codex"]`` section."""
        return self.provider(CODEX_PROVIDER)


def _parse(data: Any, path: Path) -> KabotConfig:
    if data is None:
        return KabotConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, not a JSON {_fs.json_type(data)}; "
                          "it was left untouched", hint=f"fix or move {path} aside")
    try:
        config = KabotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path} has invalid settings ({_problems(exc)}); it was left untouched",
                          hint=f"fix {path} or rerun `kabot setup`") from None
    config._path = path
    if CODEX_PROVIDER in config.providers:
        config.provider(CODEX_PROVIDER)  # our own section is checked now: every caller needs it
    return config


def load_config(path: Path | None = None) -> KabotConfig:
    """Read the config (an empty one if the file does not exist). Never writes."""
    path = path or config_path()
    return _parse(_fs.read_json(path, what="kabot config"), path)


def _dump(config: KabotConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


def permission_warnings(path: Path | None = None) -> list[str]:
    """Say (with the fix) if the config file or its directory is open to other users."""
    path = path or config_path()
    return _fs.loose_permissions(path.parent) + _fs.loose_permissions(_fs.write_target(path))


@contextlib.contextmanager
def edit_config(path: Path | None = None, *, timeout: float = 30.0) -> Iterator[KabotConfig]:
    """Load, let the caller change, then atomically save the config — the only config writer.

    The file is locked for the whole block so concurrent editors (another process refreshing a
    token, the wizard) never lose each other's changes. If the block raises, nothing is written.
    A corrupt file raises ``ConfigError`` and is never overwritten. A symlinked file is written
    through to its target; the file ends up 0600 and the kabot home 0700 (fixing looser modes).
    """
    path = path or config_path()
    with _fs.file_lock(path, timeout=timeout):
        config = _parse(_fs.read_json(path, what="kabot config"), path)
        before = _dump(config)
        yield config
        # Re-validate: assignments inside the block may have bypassed nested validation.
        after = _dump(_parse(_dump(config), path))
        if after != before or not path.exists() or _fs.loose_permissions(_fs.write_target(path)):
            _fs.atomic_write_json(path, after)
        _fs.tighten_dir(path.parent)
