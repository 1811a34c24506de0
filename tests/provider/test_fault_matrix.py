"""Every fault mode × the four call shapes: the exact exception type, a clean one-line
message, no truncated answer passed off as complete, and ``timeout=`` bounding the whole call.

Emulator faults come from ``kabot_codex.emulator``; the rest are hand-made loopback servers
(``faultserver.py``). Times are compared with the requested timeout, never absolute.
"""

from __future__ import annotations

import re

import litellm
import pytest

from tests.provider import faultserver as fs
from tests.provider.shapes import SHAPES, Outcome, run

DEADLINE = 1.0  # seconds: short, so the matrix stays quick
RATIO = 3.0  # a timed-out call must end within RATIO × its timeout (generous for a busy machine)

# Python internals that must never reach a user's message.
INTERNALS = re.compile(r"Traceback|File \"|zlib|Errno|_ssl\.c|httpx|httpcore|object has no attribute|"
                       r"RemoteProtocolError|ReadError|ReadTimeout|ConnectError|DecodingError|"
                       r"incorrect header check|Error -\d")

EMULATOR_FAULTS: list[tuple[str, dict, type[Exception]]] = [
    ("context_length", {}, litellm.ContextWindowExceededError),
    ("response_failed", {}, litellm.InternalServerError),
    ("error_event", {}, litellm.InternalServerError),
    ("drop_stream", {}, litellm.APIConnectionError),
    ("reset_stream", {}, litellm.APIConnectionError),
    ("unauthorized", {"count": 5}, litellm.AuthenticationError),
    ("usage_limit", {}, litellm.RateLimitError),
    ("rate_limit", {}, litellm.RateLimitError),
    ("server_error", {}, litellm.InternalServerError),
    ("overloaded", {}, litellm.ServiceUnavailableError),
    ("bad_gateway", {}, litellm.BadGatewayError),
    ("cloudflare", {}, litellm.PermissionDeniedError),
    ("bad_request", {}, litellm.BadRequestError),
    ("hang", {"seconds": 4}, litellm.Timeout),
    ("slow", {"delay_ms": 300}, litellm.Timeout),
]

LOOPBACK_FAULTS: list[tuple[str, fs.Mode, type[Exception], str]] = [
    ("stall_after_headers", fs.stall_after_headers, litellm.Timeout, "timeout=1 s"),
    ("stall_mid_stream", fs.stall_mid_stream, litellm.Timeout, "timeout=1 s"),
    ("trickle_keepalive", fs.trickle_keepalive, litellm.Timeout, "timeout=1 s"),
    ("reset_mid_stream", fs.reset_mid_stream, litellm.APIConnectionError, "mid-stream"),
    ("huge_event", fs.huge_event, litellm.APIConnectionError, "exceeded 16 MiB"),
    ("redirect", fs.redirect, litellm.APIConnectionError, "redirected (HTTP 302 to captive.portal.test)"),
    ("gzip_garbage", fs.gzip_garbage, litellm.APIConnectionError, "could not be decompressed"),
    ("gzip_garbage_error", fs.gzip_garbage_error, litellm.InternalServerError, "(500)"),
    ("echo_400", fs.echo_status(400), litellm.BadRequestError, "[redacted]"),
    ("echo_401", fs.echo_status(401), litellm.AuthenticationError, "[redacted]"),
    ("echo_500", fs.echo_status(500), litellm.InternalServerError, "[redacted]"),
    ("echo_failed", fs.echo_failed, litellm.InternalServerError, "[redacted]"),
]


def check_failure(outcome: Outcome, expected: type[Exception], *, deadline: float = DEADLINE,
                  ratio: float = RATIO) -> str:
    """Assert the typed error and that nothing looked like a finished answer; return its message."""
    assert outcome.error is not None, f"{outcome.shape}: no error; got {outcome.text!r} {outcome.finish_reasons}"
    original = outcome.original
    assert isinstance(original, expected), f"{outcome.shape}: {type(original).__name__}: {original}"
    assert outcome.finish_reasons == [], "a broken answer was presented as finished"
    message = str(original)
    assert "\n" not in message.strip(), message
    assert not INTERNALS.search(message), message
    if expected is litellm.Timeout:
        assert outcome.seconds < deadline * ratio, f"{outcome.shape}: {outcome.seconds:.2f} s"
    return message


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind,params,expected", EMULATOR_FAULTS, ids=[f[0] for f in EMULATOR_FAULTS])
def test_emulator_fault(emu, logged_in, kind, params, expected, shape):
    params = dict(params)
    emu.fault(kind, count=params.pop("count", 1), **params)
    outcome = run(shape, timeout=DEADLINE)
    check_failure(outcome, expected)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,mode,expected,says", LOOPBACK_FAULTS, ids=[f[0] for f in LOOPBACK_FAULTS])
def test_loopback_fault(emu, logged_in, name, mode, expected, says, shape):
    with fs.serving(mode) as server:
        outcome = run(shape, api_base=server.base, timeout=DEADLINE)
    message = check_failure(outcome, expected)
    assert says in message
    assert "login?next" not in message  # where a redirect points: host only


@pytest.mark.parametrize("shape", SHAPES)
def test_a_stream_that_goes_silent_late_ends_at_the_deadline(emu, logged_in, shape):
    # A sync read waits the socket timeout fixed at send time; without the watchdog a stream that
    # stalls just before its 2 s deadline held the call for about 2 s more.
    with fs.serving(fs.stall_late) as server:
        outcome = run(shape, api_base=server.base, timeout=2.0)
    check_failure(outcome, litellm.Timeout, deadline=2.0, ratio=1.4)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_non_json_data_line_is_skipped_like_codex_does(emu, logged_in, shape):
    # Codex skips a data: line that is not JSON; the rest of the stream still answers.
    emu.fault("malformed_sse")
    outcome = run(shape, timeout=DEADLINE)
    assert outcome.error is None
    assert outcome.text and outcome.finish_reasons == ["stop"]


@pytest.mark.parametrize("shape", SHAPES)
def test_incomplete_answer_is_marked_length_not_stop(emu, logged_in, shape):
    emu.fault("incomplete", reason="max_output_tokens")
    outcome = run(shape)
    assert outcome.error is None
    assert outcome.finish_reasons == ["length"]


@pytest.mark.parametrize("shape", SHAPES)
def test_unresponsive_token_endpoint_is_bounded_by_the_call_timeout(emu, monkeypatch, shape):
    """An expired login whose issuer never answers: the call ends as a Timeout at its deadline."""
    from tests.provider.conftest import save_profile

    with fs.serving(fs.unresponsive) as issuer:
        monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
        monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", issuer.base)
        save_profile(emu.mint_tokens(ttl=-60))
        outcome = run(shape, timeout=DEADLINE)
        assert issuer.connections >= 1  # the refresh was really attempted
    message = check_failure(outcome, litellm.Timeout)
    assert "refreshing" in message


@pytest.mark.parametrize("shape", SHAPES)
def test_slow_token_endpoint_falls_back_to_a_still_valid_token(emu, monkeypatch, shape):
    """A token inside its refresh window still works: a dead issuer costs at most half the budget."""
    from tests.provider.conftest import save_profile

    with fs.serving(fs.unresponsive) as issuer:
        monkeypatch.setenv("OPENAI_CODEX_API_BASE", emu.codex_base)
        monkeypatch.setenv("OPENAI_CODEX_AUTH_BASE", issuer.base)
        save_profile(emu.mint_tokens(ttl=120))  # valid, but due for a refresh
        outcome = run(shape, timeout=2 * DEADLINE)
    assert outcome.error is None, outcome.error
    assert outcome.finish_reasons == ["stop"]
    assert outcome.seconds < 2 * DEADLINE * RATIO
