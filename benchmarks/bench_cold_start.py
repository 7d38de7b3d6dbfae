"""Cold start: `synthdsl validate` and `plan` beside a bare interpreter, medians of N runs.

Target: validate ≤ 0.5 s median. Run: python benchmarks/bench_cold_start.py [N]
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import PY, measure, median

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    recipe = str(REPO / "examples" / "quickstart.yaml")
    cases = {
        "python -c pass": [PY, "-c", "pass"],
        "import synthdsl.cli": [PY, "-c", "import synthdsl.cli"],
        "synthdsl validate": [PY, "-m", "synthdsl.cli", "validate", recipe],
        "synthdsl plan": [PY, "-m", "synthdsl.cli", "plan", recipe],
        "import litellm (avoided)": [PY, "-c", "import litellm"],
    }
    walls: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(n):  # interleave the cases so machine noise hits them alike
        for name, cmd in cases.items():
            if name.startswith("import litellm") and len(walls[name]) >= 3:
                continue
            walls[name].append(measure(cmd, cwd=str(REPO)).wall)
    base = median(walls["python -c pass"])
    print(f"{'case':<26} {'median s':>9} {'vs python':>10}")
    for name in cases:
        m = median(walls[name])
        print(f"{name:<26} {m:>9.3f} {m / base:>9.1f}x")
    v = median(walls["synthdsl validate"])
    print(f"\nvalidate median {v:.3f} s: {'OK' if v <= 0.5 else 'OVER'} the 0.5 s target")


if __name__ == "__main__":
    main()
