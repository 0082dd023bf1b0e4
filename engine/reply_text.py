"""The words of an SMTP reply: without the codes that each line of a multi-line reply repeats."""

from __future__ import annotations

import re


def reply_words(text: str, code: int | None, enhanced: str | None) -> str:
    """'Username and Password not accepted. Learn more at 550-5.7.8 https://...' loses its '550-5.7.8'."""
    if code is not None:
        marker = rf"(?<![\w.]){code}[ -]" + (rf"(?:{re.escape(enhanced)}(?![\w.]))?" if enhanced else "")
        text = re.sub(marker, " ", text)
    if enhanced:
        text = re.sub(rf"(?<![\w.]){re.escape(enhanced)}(?![\w.])", " ", text)
    return " ".join(text.split())
