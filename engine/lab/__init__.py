"""Local SMTP servers that reproduce one failure each, for demos, practice and tests."""

from engine.lab.scenarios import HOST, LAB_PASSWORD, LAB_RECIPIENT, LAB_SENDER, LAB_TOKEN, LAB_USER, SCENARIOS
from engine.lab.server import LabServer, start

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
