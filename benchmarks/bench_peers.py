"""Throughput beside the peers: the same 2,000 calls through other synthetic-data tools.

The workload of ``bench_throughput.py`` (2,000 chat completions, 64 in flight,
``max_tokens`` 32, the loopback test server at 200 ms latency in its own process) sent
by the smallest program a user of each peer library would write, next to raw aiohttp and
synthdsl's lean HTTP path (both taken from ``bench_throughput``, not copied). One server
process serves every client, one client after the other, in interleaved repeats; the
table gives medians and ratios from that one sitting.

Each peer lives in its own virtual environment under ``--cache`` (default
``~/.cache/synthdsl-bench/peers/<name>``) with exact versions from PyPI, created on first
use and reused after. Each peer's own version is pinned, and ``peer_locks/<name>.txt``
(the ``pip freeze`` of the venv measured here) constrains every dependency under it, so
a rerun gets the same stack. Nothing is installed into the project's environment. A peer whose
install fails is skipped with the reason printed, so the output says which peers ran.

Every client runs as its own process with the peer's caches, viewers and telemetry
turned off (``PEER_ENV`` and each peer's ``env``), a dummy API key and a fresh working
folder; the only reachable address is the loopback server. Before each client the
server's counters are reset; after it, ``/stats`` must show one successful request per
call (plus the peer's documented start-up probe, ``Peer.probes``), and the client must
report one non-empty answer per call, or the script exits 1. CPU is user+sys of the
client process and of the worker processes it waited for (``os.wait4``).

Run: python benchmarks/bench_peers.py [--calls N] [--concurrency C] [--latency S]
[--repeats R] [--only curator,distilabel,data-designer,sdg-hub] [--cache DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import PY, Measured, fake_server, measure, median
from bench_throughput import RAW_CLIENT, run_synthdsl

LOCKS = Path(__file__).resolve().parent / "peer_locks"
RAW = "raw aiohttp"
OURS = "synthdsl (http)"


@dataclass(frozen=True)
class Peer:
    """A peer library: its venv, pinned requirements and the program a user would write.

    ``program`` takes ``URL CALLS CONCURRENCY`` and prints ``RESULT ANSWERS SECONDS`` as
    its last such line: the non-empty answers it got back and its own time around the
    calls (start-up and imports excluded). ``probes`` is the number of extra requests
    the library sends by itself once per run (a rate-limit or health probe).
    """

    name: str
    label: str
    requirements: tuple[str, ...]
    program: str
    env: tuple[tuple[str, str], ...] = ()
    probes: int = 0
    note: str = ""


CURATOR = r"""
import sys, time
from bespokelabs import curator

def main(url, n, conc):
    llm = curator.LLM(
        model_name="fake",
        backend="openai",
        generation_params={"max_tokens": 32},
        backend_params={
            "base_url": url,
            "api_key": "unused",
            "max_concurrent_requests": conc,
            "max_requests_per_minute": 1_000_000,
            "max_tokens_per_minute": 1_000_000_000,
            # a reply cut at max_tokens is an answer here, as for every other client
            "invalid_finish_reasons": ["content_filter"],
        },
    )
    t0 = time.perf_counter()
    out = llm([f"question {i}" for i in range(n)])
    ok = sum(1 for row in out.dataset if row["response"])
    print("RESULT", ok, time.perf_counter() - t0)

main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
"""

DISTILABEL = r"""
import sys, time
from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts
from distilabel.steps.tasks import TextGeneration

def main(url, n, conc):
    with Pipeline(name="bench-peers") as pipeline:
        load = LoadDataFromDicts(
            data=[{"instruction": f"question {i}"} for i in range(n)], batch_size=conc
        )
        generate = TextGeneration(
            llm=OpenAILLM(model="fake", base_url=url, api_key="unused",
                          generation_kwargs={"max_new_tokens": 32}),
            input_batch_size=conc,
        )
        load >> generate
    t0 = time.perf_counter()
    distiset = pipeline.run(use_cache=False)
    ok = sum(1 for row in distiset["default"]["train"] if row["generation"])
    print("RESULT", ok, time.perf_counter() - t0)

if __name__ == "__main__":  # distilabel runs its steps in worker processes
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
"""

DATA_DESIGNER = r"""
import sys, time
import pandas as pd
import data_designer.config as dd
from data_designer.interface import DataDesigner

def main(url, n, conc):
    provider = dd.ModelProvider(name="bench", endpoint=url, provider_type="openai",
                                api_key="unused")
    model = dd.ModelConfig(
        alias="gen", model="fake", provider="bench",
        inference_parameters=dd.ChatCompletionInferenceParams(
            max_tokens=32, max_parallel_requests=conc),
    )
    builder = dd.DataDesignerConfigBuilder(model_configs=[model])
    questions = pd.DataFrame({"q": [f"question {i}" for i in range(n)]})
    builder.with_seed_dataset(dd.DataFrameSeedSource(df=questions))
    builder.add_column(dd.LLMTextColumnConfig(name="answer", model_alias="gen", prompt="{{ q }}"))
    designer = DataDesigner(artifact_path="artifacts", model_providers=[provider])
    t0 = time.perf_counter()
    result = designer.create(builder, num_records=n)
    answers = result.load_dataset()["answer"]
    ok = int((answers.astype(str).str.len() > 0).sum())
    print("RESULT", ok, time.perf_counter() - t0)

main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
"""

SDG_HUB = r'''
import sys, time
from pathlib import Path
import pandas as pd
from sdg_hub import Flow

FLOW = """
metadata:
  name: bench peers
blocks:
  - block_type: LLMChatBlock
    block_config:
      block_name: answer
      input_cols: messages
      output_cols: response
      max_tokens: 32
      async_mode: true
"""

def main(url, n, conc):
    Path("flow.yaml").write_text(FLOW)
    flow = Flow.from_yaml("flow.yaml")
    flow.set_model_config(model="openai/fake", api_base=url, api_key="unused")
    data = pd.DataFrame(
        {"messages": [[{"role": "user", "content": f"question {i}"}] for i in range(n)]}
    )
    t0 = time.perf_counter()
    out = flow.generate(data, max_concurrency=conc)
    ok = sum(1 for reply in out["response"] if reply and reply[0]["content"])
    print("RESULT", ok, time.perf_counter() - t0)

main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
'''

PEERS = (
    Peer(
        "curator",
        "Curator",
        ("bespokelabs-curator==0.1.31",),
        CURATOR,
        env=(
            ("TELEMETRY_ENABLED", "false"),
            ("CURATOR_DISABLE_CACHE", "1"),
            ("CURATOR_CACHE_DIR", "curator-cache"),
            ("CURATOR_VIEWER", "0"),
        ),
        probes=1,
        note="one POST with no messages first, to read rate-limit headers (answered 400)",
    ),
    Peer(
        "distilabel",
        "distilabel",
        # 1.5.3 imports requests without declaring it; bs4 is left out on purpose: with
        # it, the end of a run fetches BibTeX citations from arxiv.org
        ("distilabel[openai]==1.5.3", "requests==2.34.2"),
        DISTILABEL,
        env=(("DISTILABEL_CACHE_DIR", "distilabel-cache"),),
    ),
    Peer(
        "data-designer",
        "NeMo Data Designer",
        ("data-designer==0.9.7",),
        DATA_DESIGNER,
        env=(("NEMO_TELEMETRY_ENABLED", "false"), ("DATA_DESIGNER_HOME", "dd-home")),
        probes=1,
        note="one health-check generation per model before the run",
    ),
    Peer("sdg-hub", "sdg_hub", ("sdg-hub==0.9.4",), SDG_HUB),
)

# For every peer process: hubs offline, telemetry off, a dummy key, no token downloads.
PEER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm fetches its price list otherwise
    "LITELLM_TELEMETRY": "False",
    "OPENAI_API_KEY": "sk-bench-unused",
    "TOKENIZERS_PARALLELISM": "false",
}

# Versions printed beside each peer (its own and the HTTP stack under it).
SHOWN = ("openai", "litellm", "httpx", "aiohttp")


def tiktoken_dir() -> str | None:
    """The folder of tiktoken's cl100k_base file inside the litellm wheel (a project
    dependency), or None. Curator counts tokens and Data Designer profiles columns with
    tiktoken, which downloads that file at first use; with no network it must be local."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"
    return str(folder) if folder.is_dir() else None


def ensure_venv(peer: Peer, cache: Path) -> tuple[Path | None, str]:
    """The peer's python, (re)installing its venv when its pinned requirements or its
    lock (``peer_locks/<name>.txt``, used as pip constraints) changed; (None, reason)
    when the install fails."""
    folder = cache / peer.name
    marker = folder / "synthdsl-pinned.txt"
    python = folder / "bin" / "python"
    lock = LOCKS / f"{peer.name}.txt"
    wanted = (
        "\n".join(peer.requirements) + "\n" + (lock.read_text("utf-8") if lock.exists() else "")
    )
    if python.exists() and marker.exists() and marker.read_text("utf-8") == wanted:
        return python, ""
    shutil.rmtree(folder, ignore_errors=True)
    print(f"installing {peer.name} ({' '.join(peer.requirements)}) into {folder} ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if lock.exists():
        pip += ["-c", str(lock)]
    for cmd in ([PY, "-m", "venv", str(folder)], [*pip, *peer.requirements]):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return None, f"{cmd[2]} failed: {exc}"
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            lines = [ln for ln in done.stderr.splitlines() if not ln.startswith("WARNING")]
            return None, f"{cmd[2]} exited {done.returncode}: {(lines or ['?'])[-1][:300]}"
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=False
    )
    (folder / "freeze.txt").write_text(freeze.stdout, "utf-8")
    marker.write_text(wanted, "utf-8")
    if not lock.exists():
        print(f"  no lock for {peer.name}: {folder / 'freeze.txt'} is what got installed")
    return python, ""


def versions(peer: Peer, cache: Path) -> str:
    """``name==version`` of the peer and of the HTTP libraries in its venv."""
    freeze = cache / peer.name / "freeze.txt"
    if not freeze.exists():
        return "?"
    pins = {
        name.lower().replace("_", "-"): version
        for name, version in (
            line.split("==", 1) for line in freeze.read_text("utf-8").splitlines() if "==" in line
        )
    }
    own = peer.requirements[0].split("==")[0].split("[")[0]
    names = [own] + [n for n in SHOWN if n in pins]
    return ", ".join(f"{n} {pins.get(n, '?')}" for n in names)


def server_stats(url: str, reset: bool = False) -> dict[str, object]:
    base = url.rsplit("/v1", 1)[0]
    req = urllib.request.Request(base + ("/reset" if reset else "/stats"))
    if reset:
        req.method = "POST"
    with urllib.request.urlopen(req, timeout=10) as resp:
        data: dict[str, object] = json.load(resp)
    return data


@dataclass
class Run:
    measured: Measured
    answers: int | None  # the non-empty answers the client reported (None: no report)
    in_calls: float | None  # the client's own time around the calls
    requests: int
    ok_requests: int


def _result(stdout: str) -> tuple[int | None, float | None]:
    """(answers, seconds) from a client's ``RESULT`` line, or from raw's ``N SECONDS``."""
    for line in reversed(stdout.splitlines()):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            return int(parts[1]), float(parts[2])
        if len(parts) == 2 and parts[0].isdigit():
            return int(parts[0]), float(parts[1])
    return None, None


def run_client(name: str, url: str, work: Path, n: int, conc: int, peer_py: Path | None) -> Run:
    server_stats(url, reset=True)
    if name == OURS:
        measured = run_synthdsl(work, url, n, conc, "http")
    else:
        here = work / f"{name.replace(' ', '-')}-run"
        shutil.rmtree(here, ignore_errors=True)
        here.mkdir()
        if name == RAW:
            measured = measure([PY, str(work / "raw.py"), url, str(n), str(conc)], cwd=str(here))
        else:
            peer = next(p for p in PEERS if p.name == name)
            prog = work / f"peer_{peer.name}.py"
            env = dict(PEER_ENV)
            env.update(peer.env)
            folder = tiktoken_dir()
            if folder:
                env["TIKTOKEN_CACHE_DIR"] = folder
            assert peer_py is not None
            measured = measure([str(peer_py), str(prog), url, str(n), str(conc)], env, str(here))
    stats = server_stats(url)
    by_status = stats.get("by_status")
    ok = int(by_status.get("200", 0)) if isinstance(by_status, dict) else 0
    answers, in_calls = _result(measured.stdout)
    if name == OURS:  # synthdsl prints nothing with --quiet: count the rows it wrote
        rows = (work / "out-http" / "dataset.jsonl").read_text("utf-8").splitlines()
        answers = sum(1 for row in rows if json.loads(row).get("response"))
    return Run(measured, answers, in_calls, int(str(stats.get("requests", 0))), ok)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="peer names, comma-separated")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "synthdsl-bench" / "peers"))
    args = ap.parse_args()
    n, conc, cache = args.calls, args.concurrency, Path(args.cache)
    wanted = [p for p in PEERS if not args.only or p.name in args.only.split(",")]
    pythons: dict[str, Path] = {}
    for peer in wanted:
        python, why = ensure_venv(peer, cache)
        if python is None:
            print(f"SKIPPED {peer.label}: {why}", flush=True)
        else:
            pythons[peer.name] = python
    names = [RAW, OURS, *(p.name for p in wanted if p.name in pythons)]
    runs: dict[str, list[Run]] = {name: [] for name in names}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, fake_server(args.latency) as url:
        work = Path(tmp)
        (work / "raw.py").write_text(RAW_CLIENT, encoding="utf-8")
        for peer in wanted:
            (work / f"peer_{peer.name}.py").write_text(peer.program, encoding="utf-8")
        for rep in range(args.repeats):  # interleaved: machine noise hits every client alike
            for name in names:
                try:
                    run = run_client(name, url, work, n, conc, pythons.get(name))
                except RuntimeError as exc:
                    problems.append(f"{name} (repeat {rep + 1}) failed: {str(exc)[-1500:]}")
                    continue
                expected = n + sum(p.probes for p in PEERS if p.name == name)
                if run.requests != expected or not n <= run.ok_requests <= expected:
                    problems.append(
                        f"{name} (repeat {rep + 1}): server saw {run.requests} requests, "
                        f"{run.ok_requests} answered 200; expected {expected}, {n} of them 200"
                    )
                if run.answers != n:
                    problems.append(f"{name} (repeat {rep + 1}): {run.answers} answers of {n}")
                runs[name].append(run)
                print(
                    f"  repeat {rep + 1}: {name:<16} {run.measured.wall:6.2f} s wall, "
                    f"{run.measured.cpu:6.2f} s CPU, {run.requests} requests",
                    flush=True,
                )
    report(runs, n, conc, args.latency, args.repeats, wanted, cache)
    for line in problems:
        print("PROBLEM:", line)
    return 1 if problems else 0


def report(
    runs: dict[str, list[Run]],
    n: int,
    conc: int,
    latency: float,
    repeats: int,
    wanted: list[Peer],
    cache: Path,
) -> None:
    def med(name: str, attr: str) -> float:
        return median([getattr(r.measured, attr) for r in runs[name]])

    done = [name for name in runs if runs[name]]
    print(
        f"\n{n} calls, {conc} in flight, max_tokens 32, server latency {latency * 1000:.0f} ms "
        f"(ideal wall {n / conc * latency:.2f} s); medians of {repeats} interleaved runs"
    )
    print(
        f"{'client':<20} {'wall s':>7} {'calls/s':>8} {'in-call s':>9} {'CPU s':>6} "
        f"{'CPU ms/call':>11} {'calls/s vs raw':>14} {'vs synthdsl':>11} "
        f"{'CPU/call vs raw':>15} {'vs synthdsl':>11}"
    )
    base = {k: (med(k, "wall"), med(k, "cpu")) for k in (RAW, OURS) if k in done}
    for name in done:
        wall, cpu = med(name, "wall"), med(name, "cpu")
        in_calls = [r.in_calls for r in runs[name] if r.in_calls is not None]
        inside = f"{median(in_calls):9.2f}" if in_calls else f"{'—':>9}"
        label = next((p.label for p in PEERS if p.name == name), name)
        cols = []
        for key in (RAW, OURS):
            if key in base:
                cols.append(base[key][0] / wall)
        cpu_cols = [cpu / base[key][1] for key in (RAW, OURS) if key in base]
        print(
            f"{label:<20} {wall:>7.2f} {n / wall:>8.0f} {inside} {cpu:>6.2f} "
            f"{cpu / n * 1000:>11.2f} {cols[0]:>13.2f}x {cols[-1]:>10.2f}x "
            f"{cpu_cols[0]:>14.2f}x {cpu_cols[-1]:>10.2f}x"
        )
    print(
        "\n'in-call s' is the client's own timer around the calls (imports, start-up and "
        "set-up excluded); wall and CPU are the whole process. Ratios above 1 mean faster "
        "(calls/s) or more CPU per call."
    )
    for peer in wanted:
        ran = "ran" if peer.name in done else "did not run"
        print(f"{peer.label}: {versions(peer, cache)} ({ran})")
        if peer.note:
            print(f"  note: {peer.note}")


if __name__ == "__main__":
    sys.exit(main())
