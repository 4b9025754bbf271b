"""Shared pieces of the hostile suite (tests/test_hostile_matrix.py, tests/test_fuzz_*.py,
tests/test_fault_drills.py, bench/fuzz.py): selections generated from the GraphQL
schema, a loaded world with planted hostile values, and the checks every answer must
pass (no 5xx, no traceback, no identifier a role may not see, no CSV formula cell,
no graph change from a read)."""

import os


def count_example(test: str) -> None:
    """Note one generated example of `test` in the file ALLIANCE_FUZZ_LOG names (the long
    run's figures, bench/fuzz.py); nothing when it is not set."""
    path = os.environ.get("ALLIANCE_FUZZ_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(test + "\n")
