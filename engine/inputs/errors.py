"""What is wrong with something the person gave: one line to show them, and exit 2.

Kept apart from the readers that raise these so that the entry point can catch them without
importing a reader it may never use.
"""

from __future__ import annotations


class InputError(Exception):
    """Anything the person can fix; str() is the line shown."""

    # True when the line starts with FILE:LINE, as compilers say it: it is shown as it is,
    # without the program's name in front.
    located = False


class ConfigFileError(InputError):
    """A settings file that cannot be read or makes no sense: FILE:LINE: what is wrong."""

    located = True

    def __init__(self, path: str, line: int, message: str):
        # Line 0: the file as a whole (it cannot be opened), so no line is named.
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


class TextInputError(InputError):
    """A log that cannot be opened; the message names the file and the reason."""
