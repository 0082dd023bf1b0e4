"""`python -m engine`, and the `mailtriage` command (pyproject.toml's [project.scripts])."""

import sys

from engine.cli import collector

collector.pause()  # before the imports below, which make most of what start-up keeps

from engine.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
