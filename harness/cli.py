"""The ``migration-harness`` command: run scenarios, replay scheduler inputs, manage live clusters.

Exit codes: 0 every case that ran gave the expected verdict (skipped cases are listed and counted,
and at least one case ran); 1 a verdict differs from its expectation, or a case failed with an
error; 2 bad input or an environment problem (the message says what and how to fix); 3 nothing
was verified: every case was skipped (a tier that cannot run them, a style this Pacemaker lacks);
130 interrupted (after cleaning up).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Sequence

# As in harness.commands, repeated here: the entry point imports nothing of the harness before its
# signal handling is in place.
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so every `finally` that tears down a cluster runs.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        from .commands.parser import run_command

        return run_command(argv)
    except KeyboardInterrupt:
        print("migration-harness: interrupted; what this run started has been removed", file=sys.stderr)
        if argv is None:  # the program itself (an in-process caller passes its arguments)
            _exit_interrupted()
        return EXIT_INTERRUPTED


def _exit_interrupted() -> None:
    """Exit 130 once interrupted, whatever the interpreter recorded: a Ctrl-C that lands while a
    module is being imported can leave CPython (3.11) marked as killed by an unhandled
    KeyboardInterrupt even though it was handled, and it then kills itself with SIGINT at exit
    (rc -2 instead of 130; measured: 4 of 200 interrupted imports). The exit handlers (scratch
    directories) run first, as a normal exit would run them."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
