"""Plugin discovery stays off the start-up path: `synthdsl validate`, medians of N runs.

Cases, interleaved: the quickstart with no plugin installed; the quickstart with the
example plugin (tests/plugin_pkg) installed, which it does not use (discovery is lazy:
it must cost nothing); and a recipe that uses the plugin's step kind and function (the
price of discovering and loading it). The plugin is installed offline with pip into a
temporary folder put on PYTHONPATH. Medians of wall and CPU time (user + sys: steadier
on a busy machine). Run: python benchmarks/bench_plugin_startup.py [N]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import PY, measure, median

REPO = Path(__file__).resolve().parent.parent

RECIPE = """\
synthdsl: 1
name: uses_plugin
models:
  default: {model: openai/fake}
sources:
  mails:
    records: [{text: "ann@example.com"}, {text: "none"}]
steps:
  - id: clean
    from: mails
    redact_emails: {field: text}
    when: 'email_domain(text) == "example.com"'
  - id: few
    filter: "email_count(text) < 2"
output: {from: few, shape: records}
"""


def _install(target: Path) -> None:
    work = target.parent / "src"
    shutil.copytree(REPO / "tests" / "plugin_pkg", work)
    subprocess.run(
        [
            *(PY, "-m", "pip", "install", "-q", "--no-deps", "--no-index"),
            *("--no-build-isolation", "--disable-pip-version-check"),
            *("--target", str(target), str(work)),
        ],
        check=True,
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        _install(site)
        recipe = Path(tmp) / "uses_plugin.yaml"
        recipe.write_text(RECIPE, encoding="utf-8")
        plain = os.pathsep.join([str(REPO)])
        with_plugin = os.pathsep.join([str(REPO), str(site)])
        quickstart = str(REPO / "examples" / "quickstart.yaml")
        validate = [PY, "-m", "synthdsl.cli", "validate"]
        cases = {
            "quickstart, no plugin": ([*validate, quickstart], plain),
            "quickstart, plugin installed": ([*validate, quickstart], with_plugin),
            "recipe using the plugin": ([*validate, str(recipe)], with_plugin),
        }
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(n):  # interleave the cases so machine noise hits them alike
            for name, (cmd, path) in cases.items():
                run = measure(cmd, env={"PYTHONPATH": path}, cwd=str(REPO))
                walls[name].append(run.wall)
                cpus[name].append(run.cpu)
    base_wall = median(walls["quickstart, no plugin"])
    base_cpu = median(cpus["quickstart, no plugin"])
    print(f"{'case':<30} {'wall s':>8} {'ratio':>7} {'cpu s':>8} {'ratio':>7}")
    for name in cases:
        w, c = median(walls[name]), median(cpus[name])
        print(f"{name:<30} {w:>8.3f} {w / base_wall:>6.3f}x {c:>8.3f} {c / base_cpu:>6.3f}x")


if __name__ == "__main__":
    main()
