"""Keep API keys out of every error message and log line.

`Redactor(key)` replaces the key and any `Bearer …` token with "[redacted]" in a text (call it),
and, until `close()`, in every log record this process makes, whichever library logs it (a log
record factory: a server's error body that echoes the Authorization header, a client's debug log
of its request).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
BEARER = re.compile(r"\b(Bearer)\s+[^\s\"'`,;()\[\]{}<>]+", re.IGNORECASE)
NOT_A_SECRET = {"", "EMPTY"}  # the placeholder key sent to local servers that need none

_open: list[Redactor] = []
_plain_factory: Any = None  # the record factory before ours


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret not in NOT_A_SECRET:
            text = text.replace(secret, MASK)
    return BEARER.sub(rf"\1 {MASK}", text)


class Redactor:
    def __init__(self, secret: str) -> None:
        global _plain_factory
        self.secret = secret
        if not _open:
            _plain_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_redacting_factory)
        _open.append(self)

    def __call__(self, text: str) -> str:
        return redact(text, [self.secret])

    def close(self) -> None:
        if self in _open:
            _open.remove(self)
            if not _open and logging.getLogRecordFactory() is _redacting_factory:
                logging.setLogRecordFactory(_plain_factory)


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _plain_factory(*args, **kwargs)
    secrets = [r.secret for r in _open]
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001  (a malformed record: logging reports it itself when it is handled)
        return record
    clean = redact(message, secrets)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info:  # the traceback's text, formatted now and redacted (handlers reuse exc_text)
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info), secrets)
    return record
