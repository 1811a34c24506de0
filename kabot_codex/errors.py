"""Every error kabot-codex raises on its own behalf.

    KabotError                         .hint names the fix shown to the user
    ├── ConfigError (ValueError)       config.json unreadable, corrupt or invalid
    ├── UnknownProviderError (KeyError)
    ├── AuthError
    │   ├── NotLoggedInError           no credentials for the requested profile
    │   │   └── UnknownProfileError    the profile named is not in config.json at all
    │   ├── LoginError                 a login flow failed (.code carries the OAuth error code)
    │   │   ├── StateMismatchError     CSRF check on the OAuth callback failed
    │   │   └── LoginTimeoutError      the callback / device approval never arrived
    │   ├── RefreshError               transient token-endpoint failure (retryable)
    │   │   └── ReloginRequiredError   refresh token reused/expired/revoked: only a new login helps
    │   └── CredentialFileError (OSError)  a credential file is unreadable or corrupt
    ├── UsageProblem                   the command line cannot run as given (CLI exit code 2)
    └── WizardError
        ├── InteractiveSessionRequired  no TTY and no --non-interactive
        ├── UnknownModelError          a model string names nothing we or LiteLLM know (typo)
        └── SetupAborted (KeyboardInterrupt)

Errors raised inside a LiteLLM call are LiteLLM's own exception classes (see
``kabot_codex.provider.errors``) so that Router retries, cooldowns and fallbacks see the
right type; their messages carry the same hints.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "CredentialFileError",
    "InteractiveSessionRequired",
    "KabotError",
    "LoginError",
    "LoginTimeoutError",
    "NotLoggedInError",
    "RefreshError",
    "ReloginRequiredError",
    "SetupAborted",
    "StateMismatchError",
    "UnknownModelError",
    "UnknownProfileError",
    "UnknownProviderError",
    "UsageProblem",
    "WizardError",
]

LOGIN_HINT = "run `kabot login` (or `kabot setup`)"


class KabotError(Exception):
    """Base class; ``str(err)`` says what happened, ``err.hint`` says what to do."""

    default_hint: str | None = None
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} — {self.hint}"
        return self.message


class ConfigError(KabotError, ValueError):
    """The config file cannot be used as it is."""


class UnknownProviderError(KabotError, KeyError):
    """A provider name that the registry does not know."""

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return KabotError.__str__(self)


class AuthError(KabotError):
    """Anything about credentials."""


class NotLoggedInError(AuthError):
    """No credentials were found for the requested profile."""

    default_hint = LOGIN_HINT


class UnknownProfileError(NotLoggedInError):
    """The profile named does not exist (a typo, or a login made under another name)."""


class LoginError(AuthError):
    """A login flow failed; ``code`` is the OAuth error code when there is one."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class StateMismatchError(LoginError):
    """The OAuth callback's state did not match the one we sent (possible CSRF)."""

    default_hint = "start the login again with `kabot login`"


class LoginTimeoutError(LoginError):
    """The browser callback or device approval did not arrive in time."""

    default_hint = ("run `kabot login` again (on SSH, forward the port first: "
                    "`ssh -L 1455:localhost:1455 host`), or use `kabot login --device`")


class RefreshError(AuthError):
    """The token endpoint failed in a way that may pass (network, 5xx)."""

    retryable = True


class ReloginRequiredError(RefreshError):
    """The refresh token can never work again (reused, expired or revoked)."""

    retryable = False
    default_hint = LOGIN_HINT

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class CredentialFileError(AuthError, OSError):
    """A credential file (ours or the Codex CLI's) is unreadable or corrupt."""

    def __str__(self) -> str:  # OSError.__str__ would drop the hint
        return KabotError.__str__(self)


class UsageProblem(KabotError):
    """A command was asked for something it cannot do as given (the CLI exits with 2).

    ``exit_code`` may say 1 instead when the person declined at a prompt.
    """

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = 2) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class WizardError(KabotError):
    """The setup wizard could not run."""


class InteractiveSessionRequired(WizardError):
    """The wizard needs a terminal and none is attached."""

    default_hint = (
        "rerun with `kabot setup --non-interactive --login METHOD --primary MODEL [--fallback MODEL ...]`"
    )


class UnknownModelError(WizardError):
    """A model (or its provider) is unknown to the catalog and to LiteLLM: most likely a typo."""

    default_hint = "see `kabot models`, or pass --force to save it anyway"


class SetupAborted(WizardError, KeyboardInterrupt):
    """The user pressed Ctrl-C; nothing was written."""

    default_hint = "nothing was changed; run `kabot setup` again when ready"
