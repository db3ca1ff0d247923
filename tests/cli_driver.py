"""Run ``python -m harness.cli ARGS`` for many argument lists, fast: one interpreter imports the
harness once, then forks a child per argument list that executes the CLI module as ``__main__``
exactly as ``python -m`` does (its own process, exit code and stderr; an uncaught exception prints
its traceback and exits 1, as the interpreter would).

stdin: a JSON list of argument lists. stdout: a JSON list of {"argv", "rc", "stderr"}.
Used by tests/test_bad_input.py; run it with TMPDIR pointing where leftovers are looked for.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import tempfile
import traceback

import harness.cli  # noqa: F401  (imported once, before the forks)


def run_one(argv: list[str], stderr_path: str) -> int:
    pid = os.fork()
    if pid == 0:  # the child: becomes `python -m harness.cli ARGV`
        code = 1
        try:
            err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(err, 2)
            sys.argv = ["harness.cli", *argv]
            runpy.run_module("harness.cli", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="driver-") as scratch:
        stderr_path = os.path.join(scratch, "stderr")
        for argv in json.load(sys.stdin):
            rc = run_one(argv, stderr_path)
            with open(stderr_path, encoding="utf-8", errors="replace") as f:
                results.append({"argv": argv, "rc": rc, "stderr": f.read()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
