"""The `migration-harness` subcommands, grouped: running scenarios (``run``), replaying scheduler
inputs (``replay``), live clusters and boxes (``live``). ``harness.cli`` parses the arguments.

Exit codes: 0 every case that ran gave the expected verdict (skipped cases are listed and counted,
and at least one case ran); 1 a verdict differs from its expectation, or a case failed with an
error; 2 bad input or an environment problem (the message says what and how to fix); 3 nothing
was verified: every case was skipped; 130 interrupted (after cleaning up).
"""

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR, EXIT_ALL_SKIPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
