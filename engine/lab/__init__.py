"""Local SMTP servers that reproduce one failure each, for demos, practice and tests."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.lab.scenarios import (
    HOST,
    LAB_PASSWORD,
    LAB_RECIPIENT,
    LAB_SENDER,
    LAB_TOKEN,
    LAB_USER,
    SCENARIOS,
    SERVER_NAME,
)

if TYPE_CHECKING:
    from engine.lab.server import LabServer, start

# What the servers run on, installed by the `lab` extra only: diagnosing needs neither.
EXTRA_MODULES = ("aiosmtpd", "trustme")


class LabUnavailable(ImportError):
    """This installation lacks the `lab` extra, so no lab server can run."""


def require() -> None:
    """Load the servers, or raise LabUnavailable saying how to install what they need."""
    try:
        importlib.import_module("engine.lab.server")
    except ModuleNotFoundError as exc:
        if exc.name not in EXTRA_MODULES:
            raise
        raise LabUnavailable(
            f"the lab's servers need {exc.name}, which is not installed: pip install 'mailtriage[lab]'", name=exc.name
        ) from None


def __getattr__(name: str) -> Any:
    # The servers load on first use, so the scenario table stays readable without the extra and
    # a missing extra surfaces as LabUnavailable rather than as an ImportError on `import engine.lab`.
    if name not in ("LabServer", "start"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require()
    from engine.lab import server

    return getattr(server, name)


__all__ = [
    "EXTRA_MODULES",
    "HOST",
    "LAB_PASSWORD",
    "LAB_RECIPIENT",
    "LAB_SENDER",
    "LAB_TOKEN",
    "LAB_USER",
    "SCENARIOS",
    "SERVER_NAME",
    "LabServer",
    "LabUnavailable",
    "require",
    "start",
]
