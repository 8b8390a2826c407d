"""`python -m bench.ground_truth [-v]`: one line per truth; -v prints every body."""

from __future__ import annotations

import sys

from bench.ground_truth import all_truths, describe

truths = all_truths()
print(describe(truths))
if "-v" in sys.argv:
    for truth in truths:
        print(f"\n===== {truth.name}")
        for heading in truth.headings:
            print(f"  H{heading.level} {heading.display}")
        print(truth.body_text)
