"""The run report: real run directories in, one self-contained HTML page out.

Every run directory here is made by ``synthdsl run`` (in-process) against the loopback
fake OpenAI server: generate, extract, judge, filter, dedup, a loop and a mix, with
injected failures. The tests check the sections and numbers against the manifest,
escaping, determinism, the ``report`` command, and, the key test, open the page in a
real headless Chromium: the DOM must hold the SVG charts and a screenshot must show a
rendered page (decoded here with zlib and numpy, no PIL).

Chromium is required in CI: when ``/usr/bin/chromium`` (or ``$SYNTHDSL_CHROMIUM``, or
``chromium`` on PATH) is missing, the browser tests FAIL under ``CI=true`` and skip,
saying why, elsewhere.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import synthdsl.report
from synthdsl.cli import main as cli_main
from synthdsl.cli.report import main as report_main
from synthdsl.errors import RunError
from synthdsl.report import build_report, write_report
from synthdsl.testing.fake_openai import FakeOpenAIServer

SCRIPT = "<script>alert('pwned')</script>"

RECIPE = """
synthdsl: 1
name: report-e2e
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 60, concurrency: 4}}
  judge: {{model: openai/fake-judge, api_base: "{base}", max_tokens: 60}}
sources:
  topics:
    records:
      - {{topic: "alpha [[list: 3]]"}}
      - {{topic: "beta [[list: 2]]"}}
      - {{topic: "gamma [[fault:500 times=1]] [[list: 2]]"}}
      - {{topic: "delta {script} [[fault:400]]"}}
      - {{topic: "epsilon [[reply: nothing to list here]]"}}
  seeds: {{records: [{{instruction: "seed one"}}, {{instruction: "seed two"}}]}}
  human: {{records: [{human}]}}
steps:
  - id: ask
    from: topics
    generate: {{template: "List questions about {{{{ topic }}}}", model: gen, into: text}}
  - id: items
    extract: {{field: text, as: list, into: instruction}}
  - id: answer
    generate: {{template: "Answer: {{{{ instruction }}}}", model: gen}}
  - id: score
    judge: {{template: "Rate {{{{ response }}}} [[score: 8]]", model: judge, scale: [1, 10]}}
  - id: keep
    filter: "score >= 5 and words(instruction) < 7"
  - id: uniq
    dedup: {{field: topic}}
  - id: grow
    from: seeds
    loop:
      rounds: 5
      target: 9
      steps:
        - id: new
          from: pool
          generate: {{template: "Write a task like {{{{ instruction }}}} [[list: 2]]", model: gen,
                      into: text}}
        - id: split
          extract: {{field: text, as: list, into: instruction}}
  - id: grown
    from: grow
    generate: {{template: "Answer: {{{{ instruction }}}}", model: gen}}
  - id: train
    mix:
      total: 20
      seed: 3
      parts:
        - {{from: uniq, ratio: 0.25, synthetic: true}}
        - {{from: grown, ratio: 0.25, synthetic: true}}
        - {{from: human, ratio: 0.5, synthetic: false}}
"""

HUMAN = ", ".join(
    f'{{instruction: "human question {i} about {SCRIPT if i == 3 else "things"}", '
    f'response: "human answer number {i} with several more words"}}'
    for i in range(12)
)


def make_run(server: FakeOpenAIServer, project: Path, name: str = "run") -> Path:
    """Run the full recipe into ``project/name`` and return the run directory."""
    recipe = project / f"{name}.yaml"
    recipe.write_text(RECIPE.format(base=server.base_url, script=SCRIPT, human=HUMAN), "utf-8")
    out = project / name
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    return out


def manifest_of(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    return data


def node_row(html: str, node: str) -> str:
    match = re.search(rf'<tr data-node="{re.escape(node)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no table row for node {node}"
    return match.group(1)


def chart_titles(html: str) -> list[str]:
    """The accessible titles (first child ``<title>``) of every ``<svg role="img">``."""
    return re.findall(r'<svg\b[^>]*\brole="img"[^>]*>\s*<title>([^<]*)</title>', html)


# --------------------------------------------------------------------------- content


def test_report_has_every_section_and_the_manifest_numbers(
    server: FakeOpenAIServer, project: Path
) -> None:
    run_dir = make_run(server, project)
    m = manifest_of(run_dir)
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    html = path.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for sid in ("overview", "attrition", "loops", "lengths", "diversity", "mix", "models"):
        assert f'id="{sid}"' in html, sid
    assert 'id="rejects"' in html
    # header: name, hash, status, version, totals
    assert "<h1>report-e2e</h1>" in html
    assert m["recipe"]["hash"] in html
    assert 'class="badge st-completed"' in html
    assert f"<dd>{m['synthdsl_version']}</dd>" in html
    t = m["totals"]
    assert f'<div class="v">{t["calls"]:,}</div>' in html
    assert f'<div class="v">{m["output"]["records"]:,}</div>' in html
    assert f'<div class="v">{t["prompt_tokens"] + t["completion_tokens"]:,}</div>' in html
    # per node: in and out exactly as in the manifest, for every node
    for nid, st in m["nodes"].items():
        row = node_row(html, nid)
        assert f'<td class="num c-in">{st["in"]:,}</td>' in row, nid
        assert f'<td class="num c-out">{st["out"]:,}</td>' in row, nid
    # drops by reason and failures by kind are itemised
    assert m["nodes"]["ask"]["failed"] == {"bad_request": 1}
    assert "bad_request <b>1</b>" in node_row(html, "ask")
    assert "duplicate (exact)" in node_row(html, "uniq")
    # loop bodies sit right after their loop, indented
    rows = re.findall(r'<tr data-node="([^"]+)"', html)
    i = rows.index("grow")
    assert sorted(rows[i + 1 : i + 4]) == ["grow.new", "grow.pool", "grow.split"]
    assert 'class="body"' in html
    # nodes follow the DAG (the manifest's node_order): ask before keep
    assert rows.index("topics") < rows.index("ask") < rows.index("keep") < rows.index("train")
    assert rows[-1] == "output"
    # loop note and rounds
    loop = m["nodes"]["grow"]["loop"]
    assert loop["rounds_run"] == 2 and loop["made"] == 9
    assert "Loop grow: records per round" in chart_titles(html)
    assert "round 2" in html
    # mix note
    mix = m["nodes"]["train"]["mix"]
    assert f'<div class="v">{mix["achieved_total"]}</div>' in html
    assert f'<div class="v">{mix["limited_by"]}</div>' in html
    for part in mix["parts"]:
        assert f'data-part="{part["from"]}"' in html
    # models and providers
    for model in m["models"]:
        assert f'data-model="{model}"' in html
    assert "server_error <b>1</b>" in html  # the retried 500
    # rejects: every reason group with its count
    rejects = [json.loads(x) for x in (run_dir / "rejects.jsonl").read_text("utf-8").splitlines()]
    assert f"{len(rejects)} rows in <code>rejects.jsonl</code>" in html
    assert "× <code>grow</code> · loop target reached" in html
    # charts are accessible images with titles
    titles = chart_titles(html)
    assert html.count('role="img"') == len(titles) >= 10
    for expected in (
        "Records per node: in, dropped, failed and out",
        "Mix train: composition",
        "Mix train: taken of available per part",
        "Requests per model: provider calls and cache hits",
        "Tokens per model",
        "Provider errors per model, by kind",
        "Top reject reasons",
    ):
        assert expected in titles, expected
    assert any(t.startswith("Tokens per record: ") for t in titles)
    assert any(t.startswith("Token entropy per record: ") for t in titles)
    assert "<desc>" in html


def test_manifest_without_node_order_keeps_its_own_order(
    server: FakeOpenAIServer, project: Path
) -> None:
    """An older manifest without ``node_order``: the manifest's order, sources first and
    the writer last, loop bodies under their loop; the recipe, still on disk, is not read."""
    run_dir = make_run(server, project)
    m = manifest_of(run_dir)
    del m["node_order"]
    (run_dir / "manifest.json").write_text(json.dumps(m), "utf-8")
    assert Path(m["recipe"]["path"]).is_file()
    rows = re.findall(r'<tr data-node="([^"]+)"', build_report(run_dir))
    ids = list(m["nodes"])
    rank = {"source": 0, "sink": 2}
    top = sorted((n for n in ids if "." not in n), key=lambda n: rank.get(m["nodes"][n]["kind"], 1))
    expected: list[str] = []
    for n in top:
        expected += [n, *(b for b in ids if b.startswith(n + "."))]
    assert rows == expected
    assert rows[0] in ("human", "seeds", "topics") and rows[-1] == "output"


def test_report_depends_on_the_run_directory_only() -> None:
    """The report package imports no front end (lang, compile, plan) and no runtime."""
    allowed = (
        "synthdsl.report",
        "synthdsl.charts",
        "synthdsl.errors",
        "synthdsl.textproc",
        "synthdsl.io",  # data formats (the row sample), below the runtime
    )
    pkg = Path(synthdsl.report.__file__).parent
    for path in sorted(pkg.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("synthdsl"):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


def test_report_is_self_contained_escaped_and_deterministic(
    server: FakeOpenAIServer, project: Path
) -> None:
    run_dir = make_run(server, project)
    html = build_report(run_dir)
    # no script at all: data containing <script> is text, not markup
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    # the filter's reason has a '<' of its own
    assert "words(instruction) &lt; 7" in html
    assert "words(instruction) < 7" not in html
    # nothing to fetch: the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "<link" not in html and "<img" not in html and "@import" not in html
    # same run directory, same bytes
    assert build_report(run_dir) == html
    first = write_report(run_dir).read_bytes()
    assert write_report(run_dir).read_bytes() == first
    assert not list(run_dir.glob("*.tmp"))
    assert len(first) < 400_000


def test_failed_run_report_shows_the_error_and_partial_dataset(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = project / "fail.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: failing
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", api_key_env: NOT_SET_ANYWHERE}}
sources:
  s: {{records: [{{q: "hello"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
""",
        "utf-8",
    )
    out = project / "failed"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 1
    html = build_report(out)
    assert 'class="badge st-failed"' in html
    assert "The run failed:" in html and "NOT_SET_ANYWHERE" in html
    assert "partial dataset" in html
    assert 'class="alert danger"' in html


def test_collapse_flags_are_warned_at_the_top(project: Path) -> None:
    same = ", ".join(
        '{text: "the very same sentence about the very same thing"}' for _ in range(80)
    )
    recipe = project / "same.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: collapsed
sources:
  s: {{records: [{same}]}}
steps:
  - id: keep
    filter: "len(text) > 0"
""",
        "utf-8",
    )
    out = project / "same"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    html = build_report(out)
    pytest.importorskip("synthdsl.analysis.diversity")
    assert "Collapse warning" in html
    assert html.index("Collapse warning") < html.index('id="attrition"')
    assert '<span class="pill flag">flag</span>' in html
    assert "Collapse metrics against their thresholds" in chart_titles(html)


def test_diversity_falls_back_when_the_module_is_missing(
    server: FakeOpenAIServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = make_run(server, project)
    monkeypatch.setitem(sys.modules, "synthdsl.analysis.diversity", None)  # import raises
    html = build_report(run_dir)
    assert "Diversity metrics unavailable" in html
    assert any(t.startswith("Token entropy per record: ") for t in chart_titles(html))


def test_report_token_entropy_is_the_shared_definition() -> None:
    """The report, filters and stats share one token entropy (textproc.tokens)."""
    import math

    from synthdsl.analysis import diversity
    from synthdsl.report import textstats
    from synthdsl.textproc.tokens import entropy, tokenize

    assert vars(textstats)["entropy"] is entropy  # not a copy of its own
    assert diversity.token_entropy("x y x z") == pytest.approx(1.5)
    for text, bits in (("", 0.0), ("the the the", 0.0), ("a b c d", 2.0), ("x y x z", 1.5)):
        assert entropy(tokenize(text)) == pytest.approx(bits)
    assert entropy(tokenize("Hello, world! Hello again 你好世界")) == pytest.approx(
        -(2 / 8) * math.log2(2 / 8) - 6 * (1 / 8) * math.log2(1 / 8)
    )


def test_mix_band_chart_and_alert(server: FakeOpenAIServer, project: Path) -> None:
    run_dir = make_run(server, project)
    m = manifest_of(run_dir)
    m["nodes"]["train"]["mix"].update(
        {
            "stage": "instruction_tuning",
            "band": [0.2, 0.4],
            "synthetic_share": 0.5,
            "configured_share": 0.3,
            "status": "fail",
            "min_real": 0.6,
            "real_status": "fail",
        }
    )
    (run_dir / "manifest.json").write_text(json.dumps(m), "utf-8")
    html = build_report(run_dir)
    assert "Mix train: written synthetic share vs instruction_tuning band" in chart_titles(html)
    assert "50% · fail" in html
    assert "written synthetic share 50.0% is outside the instruction_tuning band 20.0%–40.0%" in (
        html
    )
    assert "written real share 50.0% is under min_real 60.0%" in html
    assert "configured synthetic share" in html and "30.0%" in html


def test_sample_size_and_fields(server: FakeOpenAIServer, project: Path) -> None:
    run_dir = make_run(server, project)
    n = manifest_of(run_dir)["output"]["records"]
    html = build_report(run_dir, ["instruction"], max_sample=5)
    assert f"a deterministic sample of 5 of {n} records" in html
    titles = chart_titles(html)
    assert "Tokens per record: instruction" in titles
    assert not any(t == "Tokens per record: response" for t in titles)


def test_parquet_chat_shape_dataset(server: FakeOpenAIServer, project: Path) -> None:
    pytest.importorskip("pyarrow")
    rows = ", ".join(f'{{instruction: "Explain item {i} [[words: {5 + i}]]"}}' for i in range(12))
    recipe = project / "chat.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: chat
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ instruction }}}}", model: gen}}
output: {{format: parquet, shape: openai}}
""",
        "utf-8",
    )
    out = project / "chat"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert (out / "dataset.parquet").exists()
    titles = chart_titles(build_report(out))
    assert "Tokens per record: messages.assistant" in titles
    assert "Tokens per record: messages.user" in titles


# --------------------------------------------------------------------------- command


def test_report_command(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = make_run(server, project)
    (run_dir / "report.html").unlink(missing_ok=True)
    capsys.readouterr()
    assert report_main([str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.html")
    assert (run_dir / "report.html").exists()
    other = project / "elsewhere" / "r.html"
    assert report_main([str(run_dir), "--out", str(other), "--field", "response"]) == 0
    assert "Tokens per record: response" in chart_titles(other.read_text("utf-8"))


@pytest.mark.parametrize("case", ["missing", "file", "no-manifest", "bad-manifest"])
def test_report_command_errors(
    project: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    target = project / "target"
    if case == "file":
        target.write_text("x", "utf-8")
    elif case == "no-manifest":
        target.mkdir()
    elif case == "bad-manifest":
        target.mkdir()
        (target / "manifest.json").write_text("{not json", "utf-8")
    assert report_main([str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("synthdsl: error: ") and "Traceback" not in err
    expected = {
        "missing": "no such run directory",
        "file": "not a directory",
        "no-manifest": "no manifest.json",
        "bad-manifest": "not valid JSON",
    }[case]
    assert expected in err
    with pytest.raises(RunError):
        build_report(target)


# --------------------------------------------------------------------------- browser


def chromium() -> str:
    """The Chromium binary; the browser tests fail (not skip) without one."""
    for candidate in (os.environ.get("SYNTHDSL_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() not in ("true", "1"):
        pytest.skip("Chromium not found (CI=true makes this a failure): apt-get install chromium")
    pytest.fail(
        "Chromium is required to test the HTML report in a real browser, and none was found "
        "(looked at $SYNTHDSL_CHROMIUM, /usr/bin/chromium and PATH). Install it, e.g. "
        "'apt-get install chromium' on Debian, or set SYNTHDSL_CHROMIUM."
    )


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    tail = proc.stderr.decode("utf-8", "replace")[-2000:]
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}:\n{tail}"
    return proc


def decode_png(data: bytes) -> npt.NDArray[np.uint8]:
    """Pixels (height, width, channels) of an 8-bit RGB/RGBA PNG, unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, bytearray()
    width = height = ctype = depth = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(bytes(idat)), dtype=np.uint8)
    raw = raw.reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prev = np.zeros(width * bpp, dtype=np.int64)
    for y in range(height):
        kind_, line = int(raw[y, 0]), raw[y, 1:].astype(np.int64)
        if kind_ == 0:
            cur = line
        elif kind_ == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind_ == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average, Paeth: depend on the pixel to the left, one at a time
            c_, p_ = line.tolist(), prev.tolist()
            for x in range(len(c_)):
                a = c_[x - bpp] if x >= bpp else 0
                b = p_[x]
                if kind_ == 3:
                    c_[x] = (c_[x] + (a + b) // 2) & 255
                else:
                    c = p_[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    c_[x] = (c_[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.array(c_, dtype=np.int64)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)


def test_report_renders_in_a_real_headless_browser(server: FakeOpenAIServer, project: Path) -> None:
    run_dir = make_run(server, project)
    report = write_report(run_dir)
    html = report.read_text("utf-8")
    url = report.resolve().as_uri()

    # the DOM chromium built: every chart is there, as an accessible image
    dom = run_chromium(["--dump-dom", url], project / "profile-dom").stdout.decode("utf-8")
    assert "<h1>report-e2e</h1>" in dom
    titles = chart_titles(dom)
    assert titles == chart_titles(html)
    assert len(titles) >= 10
    for expected in (
        "Records per node: in, dropped, failed and out",
        "Loop grow: records per round",
        "Mix train: composition",
        "Requests per model: provider calls and cache hits",
        "Top reject reasons",
    ):
        assert expected in titles, expected
    assert len(re.findall(r'<svg\b[^>]*\brole="img"', dom)) == len(titles)
    # the injected script stayed text: no script element exists, its text is shown
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in dom
    # bars were laid out: the attrition chart has one rect per segment at least
    attrition = dom[
        dom.index("Records per node: in") : dom.index("</svg>", dom.index("Records per node: in"))
    ]
    assert attrition.count("<rect") >= len(manifest_of(run_dir)["nodes"])

    # a screenshot: a real page was painted, not a blank or single-colour image
    png = project / "report.png"
    run_chromium([f"--screenshot={png}", "--window-size=1280,2000", url], project / "profile-shot")
    data = png.read_bytes()
    assert len(data) > 40_000, f"screenshot is only {len(data)} bytes"
    pixels = decode_png(data)
    assert pixels.shape[:2] == (2000, 1280)
    rgb = pixels[:, :, :3].reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    assert len(colours) > 200, f"only {len(colours)} distinct colours"
    # the dark navigation bar at the top, the page background, and the green of the
    # "passed" bars of the attrition chart (drawn SVG, not just text)
    assert tuple(pixels[10, 10, :3]) == (0x1F, 0x29, 0x33)
    assert tuple(pixels[1000, 20, :3]) == (0xF6, 0xF7, 0xFB)
    green = np.all(pixels[:, :, :3] == np.array([0x4C, 0x9A, 0x6A], dtype=np.uint8), axis=2)
    assert int(green.sum()) > 5_000


def test_few_records_are_not_judged_for_collapse(project: Path) -> None:
    """Four identical texts would trip every collapse threshold; on so few the report
    says it cannot judge rather than flagging (or clearing) them."""
    same = ", ".join('{text: "the very same sentence about the very same thing"}' for _ in range(4))
    recipe = project / "few.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: few
sources:
  s: {{records: [{same}]}}
steps:
  - id: keep
    filter: "len(text) > 0"
""",
        "utf-8",
    )
    out = project / "few"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    html = build_report(out)
    assert "Too few records to judge (text: 4 texts)" in html
    assert "No collapse flag" not in html and "Collapse warning" not in html
    assert '<span class="pill ok">' not in html and '<span class="pill flag">' not in html
