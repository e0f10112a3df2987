#!/usr/bin/env python3
"""The end of scripts/test: reads ctest's JUnit report (ctest --output-junit)
and prints one line per skipped test with its reason, then the closing line

    tests: N passed, N failed, N skipped

Exit status 1 if a test failed, else 0.

    ctest_summary.py REPORT.xml
"""

import os
import sys
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faasmtest import SKIP_MARKER  # noqa: E402

# ctest's <skipped message=...> for a test it reports as skipped; any other
# "notrun" (executable not found, required files missing, a fixture that
# failed) is a test ctest counts as failed.
CTEST_SKIP_MESSAGES = ("SKIP_RETURN_CODE", "SKIP_REGULAR_EXPRESSION_MATCHED")


def outcome(testcase):
    """'passed', 'failed' or 'skipped', as ctest counts the test."""
    status = testcase.get("status")
    if status == "run":
        return "passed"
    if status == "disabled":
        return "skipped"
    if status == "notrun" and skip_message(testcase).startswith(CTEST_SKIP_MESSAGES):
        return "skipped"
    return "failed"


def skip_message(testcase):
    skipped = testcase.find("skipped")
    return skipped.get("message", "") if skipped is not None else ""


def skip_reason(testcase):
    """The test's own skip line (after the marker), else what ctest says."""
    output = testcase.findtext("system-out") or ""
    for line in output.splitlines():
        if line.startswith(SKIP_MARKER):
            return line[len(SKIP_MARKER):]
    if testcase.get("status") == "disabled":
        return "disabled (ctest property DISABLED)"
    return skip_message(testcase) or "no reason given"


def main():
    testcases = ElementTree.parse(sys.argv[1]).getroot().iter("testcase")
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for testcase in testcases:
        result = outcome(testcase)
        counts[result] += 1
        if result == "skipped":
            print(f"skipped: {testcase.get('name')}: {skip_reason(testcase)}")
    print(f"tests: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
