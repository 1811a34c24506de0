"""What the callback server and the paste prompt accept, and what they refuse."""

from __future__ import annotations

import pytest

from kabot_codex.auth.callback import code_from_redirect, parse_pasted
from kabot_codex.errors import LoginError, StateMismatchError

STATE = "s-123"


@pytest.mark.parametrize(
    "pasted",
    [
        f"http://localhost:1455/auth/callback?code=the-code&state={STATE}",
        f"  'http://localhost:1457/auth/callback?state={STATE}&code=the-code'  ",
        f"code=the-code&state={STATE}",
        f"?code=the-code&state={STATE}",
        f"the-code#{STATE}",
        "the-code",
        "http://localhost:1455/auth/callback?code=the-code",
    ],
)
def test_paste_accepts_every_shape(pasted: str) -> None:
    assert parse_pasted(pasted, STATE) == "the-code"


@pytest.mark.parametrize(
    "pasted",
    ["http://localhost:1455/auth/callback?code=c&state=other", "code=c&state=other", "c#other"],
)
def test_paste_checks_state_when_present(pasted: str) -> None:
    with pytest.raises(StateMismatchError):
        parse_pasted(pasted, STATE)


def test_paste_of_an_error_redirect_explains_it() -> None:
    with pytest.raises(LoginError) as info:
        parse_pasted(f"http://localhost:1455/auth/callback?error=access_denied&state={STATE}"
                     "&error_description=missing_codex_entitlement", STATE)
    assert info.value.code == "access_denied" and "not enabled" in info.value.message


def test_empty_paste_is_refused() -> None:
    with pytest.raises(LoginError):
        parse_pasted("   ", STATE)


def test_callback_requires_the_state() -> None:
    with pytest.raises(StateMismatchError):
        code_from_redirect({"code": ["c"]}, STATE)
    with pytest.raises(LoginError) as info:
        code_from_redirect({"state": [STATE]}, STATE)
    assert info.value.code == "missing_authorization_code"
    assert code_from_redirect({"code": ["c"], "state": [STATE]}, STATE) == "c"
