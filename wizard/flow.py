"""``kabot setup`` as one resolution loop over the questions in ``wizard.questions``.

Each question is answered by the first of: its CLI flag; in non-interactive mode the existing
config, then the question's default (a required question without either is an error naming
the flag); otherwise the prompter, with the existing value as the suggested answer. The
non-interactive setup is therefore the same code path with the prompt never reached.

Steps: show the current setup → login → load the catalog → primary (an ``unsupported`` pick
needs a yes) → fallbacks and their order → optional probe → write the order (the only config
write, at the very end: Ctrl-C before it leaves the order untouched; the login step itself
saves credentials, as a login should, and an interrupted setup says so) → print how to use it.

Fallbacks: a usage limit covers every model of the account, so models of another provider are
offered first and same-account models are flagged (docs/internals/wizard-fallbacks.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from kabot_codex.catalog.account import AccountView, current_account
from kabot_codex.catalog.live import refresh_catalog
from kabot_codex.config import KabotConfig, load_config
from kabot_codex.errors import ConfigError, NotLoggedInError, SetupAborted, WizardError
from kabot_codex.routing import openai_credentials

from . import questions as Q
from .apply import apply_setup
from .choices import ModelRow, default_order, fallback_rows, model_rows, status_of
from .model_check import check_models
from .prompter import Prompter
from .ui import show_current, show_login, show_probes, show_snippet

__all__ = ["SetupOptions", "SetupResult", "run_setup"]

LoginFn = Callable[..., Any]
ProbeFn = Callable[..., list[Any]]


@dataclass
class SetupOptions:
    """Answers given up front (CLI flags); ``None`` means "not given"."""

    non_interactive: bool = False
    profile: str = "default"
    login: str | None = None
    api_key: str | None = None
    primary: str | None = None
    fallbacks: Sequence[str] | None = None
    allow_unsupported: bool | None = None
    openai_api_key: str | None = None
    probe: bool | None = None
    force: bool = False  # save models the catalog and LiteLLM do not know (see model_check)
    login_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> run_login options
    pool: Sequence[str] | None = None  # profiles that each serve the primary (None: keep the saved pool)

    def flag_value(self, name: str) -> Any:
        """The flag answer for question ``name`` (fallback_N questions have none)."""
        return getattr(self, name, None) if name in _FLAG_FIELDS else None


_FLAG_FIELDS = {"login", "api_key", "primary", "fallbacks", "allow_unsupported", "openai_api_key", "probe"}


@dataclass
class SetupResult:
    """What setup decided and did."""

    login: str
    primary: str
    fallbacks: list[str]
    probes: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _default_login(method: str, **kwargs: Any) -> Any:
    from kabot_codex.auth.login import run_login

    return run_login(method, **kwargs)


def _default_probe(models: Sequence[str], **kwargs: Any) -> list[Any]:
    from kabot_codex.catalog.probe import probe_models

    return probe_models(models, **kwargs)


class _Resolver:
    """The one resolution loop: flag → (non-interactive: existing → default) → prompt."""

    def __init__(self, options: SetupOptions, existing: dict[str, Any], prompter: Prompter) -> None:
        self.options = options
        self.existing = existing
        self.prompter = prompter

    def resolve(self, question: Q.Question, *, use_flag: bool = True) -> Any:
        flag = self.options.flag_value(question.name) if use_flag else None
        if flag is not None:
            return question.validate(flag)
        existing = self.existing.get(question.name)
        if self.options.non_interactive:
            for candidate in (existing, question.default):
                if candidate is not None:
                    return question.validate(candidate)
            if question.required:
                return question.validate(self.prompter.ask(question))  # raises, naming the flag
            return question.validate(None)
        suggested = next((v for v in (existing, question.default, question.prompt_default) if v is not None), None)
        if suggested is not question.default:
            question = dataclasses.replace(question, default=suggested)
        while True:
            try:
                return question.validate(self.prompter.ask(question))
            except Q.InvalidAnswer:
                if self.options.non_interactive:
                    raise
                continue  # typed answers are re-asked; questionary validates most up front


def _existing_answers(config: KabotConfig) -> dict[str, Any]:
    try:
        order = config.agents.defaults.model_order()
    except ConfigError:
        return {}  # an invalid saved order is what this run replaces
    if order is None:
        return {}
    return {"primary": order.primary, "fallbacks": list(order.fallbacks)}


def _logged_in(config: KabotConfig, profile: str) -> bool:
    codex = config.existing_provider("openai-codex")
    return bool(codex and profile in codex.profiles)


def run_setup(options: SetupOptions, *, prompter: Prompter, console: Console | None = None,
              login: LoginFn = _default_login, probe: ProbeFn = _default_probe) -> SetupResult:
    """Run the whole setup; see the module docstring for the order of steps.

    Args:
        options: answers given as flags (all of them with ``non_interactive=True``).
        prompter: asks whatever the flags and config leave open.
        console: where to print (default: stdout).
        login: ``run_login``-compatible function (the seam tests replace).
        probe: ``probe_models``-compatible function.

    Raises:
        SetupAborted: Ctrl-C; the model order was not written, and the hint says whether the
            login step had already saved a login.
        InteractiveSessionRequired: a question needs an answer in non-interactive mode.
        WizardError, AuthError: the login or an answer failed; the hint says what to do.
    """
    console = console or Console()
    config = load_config()
    account = current_account(profile=options.profile)
    show_current(console, config, account, options.profile)
    saved_login: list[str] = []  # what an interrupted setup has already saved, to say so truthfully
    try:
        return _run_steps(options, config, account, prompter, console, login, probe, saved_login)
    except KeyboardInterrupt as exc:  # SetupAborted from a prompt, or Ctrl-C inside a login or probe
        raise SetupAborted("Setup was interrupted", hint=_abort_hint(saved_login, options.profile)) from exc


def _abort_hint(saved_login: list[str], profile: str) -> str:
    if saved_login:
        return (f"the {saved_login[0]} login was saved (profile {profile}); the model order was not "
                "changed. Run `kabot setup --login keep` to choose it")
    return "nothing was changed; run `kabot setup` again when ready"


def _run_steps(options: SetupOptions, config: KabotConfig, account: AccountView, prompter: Prompter,
               console: Console, login: LoginFn, probe: ProbeFn, saved_login: list[str]) -> SetupResult:
    existing = _existing_answers(config)
    resolver = _Resolver(options, existing, prompter)
    notes: list[str] = []

    method = resolver.resolve(Q.login_question(logged_in=_logged_in(config, options.profile)))
    login_key: str | None = None
    if method == "keep":
        if not _logged_in(config, options.profile):
            raise NotLoggedInError(f"No login to keep for profile {options.profile!r}",
                                   hint="choose --login browser, device, codex or api-key")
    else:
        kwargs = dict(options.login_options.get(method, {}))
        if method == "api-key":
            kwargs["api_key"] = login_key = resolver.resolve(Q.api_key_question())
        login(method, profile=options.profile, console=console, **kwargs)
        saved_login.append(method)
        show_login(console, load_config(), options.profile)
        account = current_account(profile=options.profile)

    rows, listed = _load_catalog(console, account, options.profile)
    suggested = default_order(rows, live=listed is not None)
    if suggested.note:
        console.print(f"[yellow]note:[/] {suggested.note}", highlight=False)
        notes.append(suggested.note)

    checked = _ModelCheck(existing, listed or frozenset(), options.force)
    primary = _pick_primary(resolver, rows, suggested.primary, account, checked)
    offered, shared = fallback_rows(rows, primary)
    if options.fallbacks is None and not options.non_interactive:
        console.print(Q.fallbacks_explanation(primary.split("/", 1)[0]), highlight=False)
    fallbacks = resolver.resolve(Q.fallbacks_question(_pairs(offered),
                                                      [m for m in suggested.fallbacks if m != primary]))
    fallbacks = [m for m in dict.fromkeys(checked(fallbacks)) if m != primary]
    if options.fallbacks is None and not options.non_interactive:
        fallbacks = _order_fallbacks(resolver, fallbacks)
    same_account = [m for m in fallbacks if m in shared]
    if same_account:
        note = (f"{', '.join(same_account)} share{'s' if len(same_account) == 1 else ''} the usage limit of "
                f"{primary}: {'it helps' if len(same_account) == 1 else 'they help'} when the primary fails, "
                "not when the account hits its usage limit.")
        console.print(f"[yellow]note:[/] {note}", highlight=False)
        notes.append(note)

    openai_key = _openai_key(resolver, config, fallbacks, options, login_key)
    results: list[Any] = []
    if resolver.resolve(Q.probe_question(default=not options.non_interactive)):
        results = probe([primary, *fallbacks], account_key=account.account_key, profile=options.profile,
                        openai_api_key=openai_key)
        show_probes(console, results)

    _check_pool(load_config(), options.pool, primary)  # fresh: the login step may have added one
    order = apply_setup(primary, fallbacks, openai_api_key=openai_key, pool=options.pool)
    console.print(f"[green]Saved.[/] primary [bold]{order.primary}[/], fallbacks: "
                  f"{', '.join(order.fallbacks) or 'none'}", highlight=False)
    show_snippet(console, order.primary, order.fallbacks)
    return SetupResult(method, order.primary, list(order.fallbacks), results, notes)


def _check_pool(config: KabotConfig, pool: Sequence[str] | None, primary: str) -> None:
    if not pool:
        return
    if not primary.startswith("openai-codex/"):
        raise WizardError(f"An account pool serves an openai-codex primary, not {primary}",
                          hint="choose an openai-codex --primary, or drop --pool")
    codex = config.providers.get("openai-codex")
    missing = [p for p in pool if not (codex and p in codex.profiles)]
    if missing:
        raise WizardError(f"No login for pool profile(s) {', '.join(missing)}",
                          hint=f"run `kabot login --profile {missing[0]}` for each, then rerun setup")


class _ModelCheck:
    """Catches typos before they are saved: every model that is new to the config is checked."""

    def __init__(self, existing: dict[str, Any], listed: frozenset[str], force: bool) -> None:
        self.kept = {existing.get("primary"), *existing.get("fallbacks", ())} - {None}
        self.listed = listed
        self.force = force

    def __call__(self, models: Sequence[str]) -> list[str]:
        # Models already saved are not re-checked: they may have been saved with --force.
        return [_canonical(m) if _canonical(m) in self.kept else
                check_models([m], listed=self.listed, force=self.force)[0] for m in models]


def _pairs(rows: Sequence[ModelRow]) -> list[tuple[str, str]]:
    return [(r.model, r.title) for r in rows]


def _load_catalog(console: Console, account: AccountView,
                  profile: str) -> tuple[list[ModelRow], frozenset[str] | None]:
    listed: frozenset[str] | None = None
    if account.auth_mode == "chatgpt":
        result = refresh_catalog(profile=profile)
        if result.ok:
            listed = frozenset(result.models)
            console.print(f"Loaded your account's model list ({len(listed)} models).", highlight=False)
        else:
            console.print(f"[yellow]note:[/] could not load your account's model list ({result.error}); "
                          "using the bundled list", highlight=False)
    return model_rows(account, listed), listed


def _pick_primary(resolver: _Resolver, rows: list[ModelRow], default: str, account: AccountView,
                  checked: _ModelCheck) -> str:
    use_flag = True
    while True:
        primary = resolver.resolve(Q.primary_question(_pairs(rows), default), use_flag=use_flag)
        (primary,) = checked([primary])
        status = status_of(primary, account)
        if status != "unsupported":
            return primary
        row = next((r for r in rows if r.model == primary), None)
        why = (row.spec.retired_note if row is not None and row.spec.retired and row.spec.retired_note
               else "the backend rejected it or it does not work with this login")
        if resolver.resolve(Q.confirm_unsupported_question(primary, why)):
            return primary
        if resolver.options.non_interactive:
            raise WizardError(f"{primary} is unsupported for this account ({why})",
                              hint="choose another --primary (see `kabot models`) or add --allow-unsupported")
        # Declined: ask again, ignoring a flag value that was just rejected.
        use_flag = False
        resolver.options.allow_unsupported = None


def _canonical(model: str) -> str:
    from kabot_codex.catalog import canonical_model

    return canonical_model(model)


def _order_fallbacks(resolver: _Resolver, chosen: list[str]) -> list[str]:
    remaining = list(chosen)
    ordered: list[str] = []
    while len(remaining) > 1:
        pick = resolver.resolve(Q.fallback_order_question(len(ordered) + 1, remaining))
        ordered.append(pick)
        remaining.remove(pick)
    return ordered + remaining


def _openai_key(resolver: _Resolver, config: KabotConfig, fallbacks: list[str], options: SetupOptions,
                login_key: str | None) -> str | None:
    if not any(m.startswith("openai/") for m in fallbacks):
        return None
    if options.openai_api_key is None and openai_credentials(config)[0]:
        return None  # the Router will find it the same way; nothing to ask
    # An API-key login is an OpenAI key too: offer it for the openai/* fallbacks.
    return resolver.resolve(Q.openai_key_question(login_key)) or None
