"""Local SMTP servers that reproduce one failure each, for demos, practice and tests."""

from engine.lab.server import (
    HOST,
    LAB_PASSWORD,
    LAB_RECIPIENT,
    LAB_SENDER,
    LAB_TOKEN,
    LAB_USER,
    SCENARIOS,
    LabServer,
    start,
)

__all__ = [
    "HOST",
    "LAB_PASSWORD",
    "LAB_RECIPIENT",
    "LAB_SENDER",
    "LAB_TOKEN",
    "LAB_USER",
    "SCENARIOS",
    "LabServer",
    "start",
]
