"""mailtriage: find out why an application's emails fail to send."""

__version__ = "0.1.0"
