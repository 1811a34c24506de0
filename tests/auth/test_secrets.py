"""No token, refresh token, id token or API key in logs, output, exceptions or reprs.

Everything is logged at DEBUG (requests-oauthlib would log the token response body and the
bearer token) while a login, a refresh and a failed refresh run for real.
"""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from pytest_mock import MockerFixture
from rich.console import Console

from kabot_codex.auth.login import run_login, status
from kabot_codex.auth.session import session_for
from kabot_codex.cli import cli
from kabot_codex.emulator import EmulatorControl
from kabot_codex.errors import ReloginRequiredError
from tests.auth.conftest import stored
from tests.auth.test_login_flows import fake_browser

API_KEY = "sk-SENTINEL-0123456789abcdef"


@pytest.mark.usefixtures("loopback_ports")
def test_no_secret_reaches_logs_output_or_errors(issuer: EmulatorControl, mocker: MockerFixture,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # everything, from every library
    secrets: set[str] = set()
    texts: list[str] = []

    fake_browser(mocker)
    profile = run_login("browser", console=Console(), paste=False, timeout=30)
    texts.append(repr(profile))
    secrets |= {profile.access_token or "", profile.refresh_token or "", profile.id_token or ""}

    issuer.expire_access_tokens()
    session = session_for("default")
    creds = session.get()
    refreshed = session.recover(creds)  # a real refresh through httpx
    texts += [repr(creds), repr(refreshed), repr(session)]
    after = stored()
    secrets |= {after.access_token or "", after.refresh_token or "", after.id_token or ""}

    issuer.revoke_refresh_tokens()
    issuer.expire_access_tokens()
    with pytest.raises(ReloginRequiredError) as info:
        session.recover(refreshed)
    texts += [str(info.value), repr(info.value)]

    run_login("api-key", profile="keyed", api_key=API_KEY, console=Console())
    secrets.add(API_KEY)
    texts.append(repr(status()))
    for args in (["status"], ["status", "--json"]):
        texts.append(CliRunner().invoke(cli, args).output)

    captured = capfd.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    assert any("oauth2_session" in r.name for r in caplog.records), "requests-oauthlib did log"
    secrets.discard("")
    assert len(secrets) >= 6  # two id tokens minted in the same second can be identical
    for secret in secrets:
        for text in texts:
            assert secret not in text
