"""Keep tokens out of logs and messages.

Third-party OAuth code logs far too much at DEBUG (requests-oauthlib logs the token response
body and the bearer token), and a server's error text may echo what we sent. Everything that
could carry a secret passes through ``redact`` before it reaches a log record or an exception.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["RedactingFilter", "redact", "remember_secret", "silence_oauth_loggers"]

_MASK = "[redacted]"

# Recent secret values seen in this process: caught even in unexpected shapes. Bounded (a
# long-running proxy refreshes every hour); older tokens are dead anyway.
_known: dict[str, None] = {}
_known_lock = threading.Lock()
_MAX_KNOWN = 64
_MIN_SECRET_LEN = 8  # shorter strings would mask ordinary words

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # JWTs (access and id tokens)
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    # key=value in form bodies and URLs
    re.compile(r"(?i)((?:access|refresh|id)_token|code(?:_verifier)?|api_key|client_secret|"
               r"subject_token|token|authorization_code)=([^&\s'\"]+)"),
    # "key": "value" in JSON and Python reprs
    re.compile(r"(?i)([\"']?(?:access|refresh|id)_token[\"']?\s*[:=]\s*[\"'])([^\"']+)"),
    re.compile(r"(?i)([\"']?(?:api_key|OPENAI_API_KEY|code_verifier|authorization_code|client_secret)"
               r"[\"']?\s*[:=]\s*[\"'])([^\"']+)"),
    # Authorization headers
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]+)"),
    # OpenAI API keys
    re.compile(r"sk-[A-Za-z0-9_-]{8,}"),
)


def remember_secret(*values: str | None) -> None:
    """Mask these exact values wherever they appear from now on."""
    with _known_lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                _known.pop(value, None)
                _known[value] = None
        while len(_known) > _MAX_KNOWN:
            del _known[next(iter(_known))]


def _sub(match: re.Match[str]) -> str:
    if match.lastindex and match.lastindex >= 2:
        return match.group(1) + _MASK
    return _MASK


def redact(text: str) -> str:
    """Return ``text`` with every token-looking value and every remembered secret masked."""
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, _MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_sub, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; drop its args
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()
_OAUTH_LOGGERS = ("requests_oauthlib", "oauthlib", "urllib3", "kabot_codex")


def silence_oauth_loggers() -> None:
    """Attach the redacting filter to every logger the OAuth libraries log through.

    A filter on a logger only sees records created on that very logger, not on its children,
    so it goes on every existing logger below the OAuth packages (call after importing them).
    """
    manager = logging.Logger.manager
    names = [n for n in list(manager.loggerDict) if n.split(".")[0] in _OAUTH_LOGGERS]
    for name in {*names, *_OAUTH_LOGGERS}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
