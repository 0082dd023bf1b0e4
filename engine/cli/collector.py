"""The cyclic garbage collector during start-up: paused, then what start-up made is set aside.

Start-up makes some hundred thousand objects that the process keeps to its end: modules,
classes, the knowledge base. With the collector running, it walks each of them again and again
while they are made, and once more in Python's final collection at exit. The entry
(engine/__main__.py) pauses it before anything else is imported, and main() if called some other
way; loading the knowledge (engine.cli.inputs), or the end of a command that loads none, ends
the pause and sets everything made so far aside (gc.freeze): later collections, the final one
among them, walk only what the command itself makes. The frozen objects stay frozen, as the
process ends after main(); a caller that lives on (the tests, which run main() in-process) calls
gc.unfreeze(). This module imports nothing else, so that the entry can pause first.
"""

import gc

_start_up = {"paused": False}


def pause() -> None:
    """Start-up begins: no cyclic collection until resume() (if the collector ran at all)."""
    if gc.isenabled():
        gc.disable()
        _start_up["paused"] = True


def resume() -> None:
    """Start-up is over: keep what exists out of later collections, and collect again."""
    if _start_up["paused"]:
        gc.freeze()
        gc.enable()
        _start_up["paused"] = False
