"""Keep secrets out of every output: the last line of defence before text leaves the process."""

from __future__ import annotations

import base64
import re
from dataclasses import field
from typing import Any

from engine.values import record

REDACTED = "<redacted>"

_MECHANISMS = r"(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5|OAUTHBEARER|DIGEST-MD5|GSSAPI|NTLM|SCRAM-SHA-\d+(?:-PLUS)?)"
# AUTH commands in transcripts or pasted logs: a word after the mechanism is credentials.
# A server's advertisement ("250-AUTH PLAIN LOGIN") lists mechanisms only, and stays readable.
_AUTH_LINE = re.compile(rf"(?i)\b(AUTH[ \t]+{_MECHANISMS}\b)([ \t]+(?!{_MECHANISMS}\b)\S+)?")


# A SASL exchange in a pasted debug log: the line after a server's 334 challenge is the client's
# answer, its last word the credential in base64 (PHPMailer "CLIENT -> SERVER: ...", smtplib
# "send: b'...\\r\\n'", swaks " -> ...", JavaMail with mail.debug.auth).
_SASL_ANSWER = re.compile(r"(?m)(^[^\n]*\b334\b[^\n]*\n[^\n]*?)([A-Za-z0-9+/]{4,}={0,2})((?:\\r\\n)?['\"]?[ \t\r]*$)")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


@record
class Redactor:
    """Replaces each known secret, and the encodings SMTP AUTH would carry it in."""

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def for_credentials(cls, user: str | None, password: str | None, token: str | None = None) -> Redactor:
        forms: list[str] = []
        for secret in (s for s in (password, token) if s):
            forms += [secret, _b64(secret)]
            if user:
                forms += [_b64(f"\0{user}\0{secret}"), _b64(f"{user}\0{user}\0{secret}")]
                forms.append(_b64(f"user={user}\x01auth=Bearer {secret}\x01\x01"))
        # Longest first, so a secret inside a longer encoded form cannot leave a fragment.
        return cls(sorted({f for f in forms if len(f) >= 3}, key=len, reverse=True))

    def include(self, other: Redactor) -> None:
        """Redact another account's secrets too, keeping the longest-first order."""
        self.secrets = sorted(set(self.secrets) | set(other.secrets), key=len, reverse=True)

    def __call__(self, text: str, marker: str = REDACTED) -> str:
        for secret in self.secrets:
            text = text.replace(secret, marker)
        text = _AUTH_LINE.sub(lambda m: m.group(1) + (f" {marker}" if m.group(2) else ""), text)
        if "334" in text:
            text = _SASL_ANSWER.sub(lambda m: m.group(1) + marker + m.group(3), text)
        return text


# C0 controls (but tab and newline), DEL and C1 controls: text from servers and pasted logs must
# not be able to move the cursor, retitle or clear the terminal of whoever reads the report.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def scrub(value: Any, redact: Redactor, clean: bool = False, memo: dict[str, str] | None = None) -> Any:
    """Redact (and with clean, defang control characters in) every string of a nested structure.

    memo: texts already scrubbed with this redact and clean, to share among calls (the reports
    of one batch); without it, each text of this one structure is scrubbed once.
    """
    # The reports of many accounts repeat the same titles and steps: each text is redacted once.
    done: dict[str, str] = {} if memo is None else memo

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            if value not in done:
                text = redact(value)
                done[value] = printable(text) if clean else text
            return done[value]
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(value)
