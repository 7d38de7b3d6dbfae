"""The run report: a run directory → one self-contained ``report.html``.

Input: a run directory of ``synthdsl run`` (``manifest.json``, ``rejects.jsonl`` and
``dataset.jsonl`` / ``dataset.partial.jsonl``, or Parquet when pyarrow is importable).
Output: ``build_report(run_dir, fields=None) -> str`` (the HTML) and
``write_report(run_dir, out=None, fields=None) -> Path`` (written atomically, by
default to ``run_dir/report.html``). The page has inline CSS and inline SVG charts
only: no JavaScript, no network, and the same run directory always gives the same
bytes (no rendering timestamp; the dataset sample is a seeded reservoir).

Sections: header and totals, alerts (run failure, collapse flags, mix bands, failed
records), per-node attrition, evolution rounds of loops, judge score
distributions, length and token-entropy
histograms, diversity metrics (``synthdsl.analysis.diversity`` when importable), mix
composition, contamination (drops by benchmark, when a step decontaminates), targeted groups
(allocation and outcome per group of failures, when a step allocates), models
and providers, rejects with examples. See ``docs/report.md``.

Errors: ``RunError`` when ``run_dir`` is missing, is not a directory or has no
readable ``manifest.json``, and when the report cannot be written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from synthdsl.charts.svg import esc
from synthdsl.errors import RunError
from synthdsl.io.output_facts import OutputFacts
from synthdsl.report import textstats
from synthdsl.report.data import MAX_SAMPLE, RunData, load_run
from synthdsl.report.sections import (
    alerts,
    attrition,
    contamination,
    diversity_section,
    has_contamination,
    has_judges,
    has_targeted,
    header,
    judge_scores,
    lengths,
    loops,
    mix,
    models,
    rejects,
    render_alerts,
    targeted,
)
from synthdsl.report.sections.markup import as_dict

__all__ = ["build_report", "write_report"]

CSS = """
:root{--ink:#1f2933;--muted:#6b7785;--line:#e3e7ee;--bg:#f6f7fb;--card:#fff;
--ok:#2f8f5b;--warn:#d98b19;--bad:#c93c3c;--accent:#3b6ea8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:24px 28px 64px}
nav{position:sticky;top:0;z-index:2;background:#1f2933;padding:8px 28px}
nav a{color:#dce3ec;text-decoration:none;margin-right:18px;font-size:13px}
nav a:hover{color:#fff;text-decoration:underline}
header{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px}
.title{display:flex;align-items:center;gap:14px}
h1{margin:0;font-size:26px}
h2{font-size:19px;margin:0 0 6px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
.sub{margin:2px 0 12px;color:var(--muted)}
.badge{display:inline-block;padding:3px 12px;border-radius:999px;font-weight:600;
font-size:13px;color:#fff;background:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.st-completed{background:var(--ok)}.st-interrupted{background:var(--warn)}
.st-failed{background:var(--bad)}
.error{background:#fdecec;border-left:4px solid var(--bad);padding:8px 12px;margin:8px 0}
dl.meta{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:4px 24px;margin:0 0 14px}
dl.meta div{display:flex;gap:8px;min-width:0}
dt{color:var(--muted);white-space:nowrap}dd{margin:0;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:10px}
.card{background:#f9fafc;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:22px;font-weight:650;margin-top:2px;overflow-wrap:break-word}
.card .s{color:var(--muted);font-size:12px}
.card.mini .v{font-size:17px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:18px 24px;margin-top:18px}
.lead{color:#3e4a57;margin:4px 0 12px;max-width:900px}
.note{color:var(--muted);font-style:italic}
.unavailable{font-style:normal;background:#f3f4f7;padding:10px 12px;border-radius:6px}
figure.chartbox{margin:12px 0;overflow-x:auto}
svg.chart{max-width:100%;height:auto;display:block}
.grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 20px}
.tablewrap{overflow-x:auto;margin:10px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);
padding:6px 7px;vertical-align:bottom}
td{border-bottom:1px solid var(--line);padding:5px 7px;vertical-align:top}
td.num,td.name{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.loop td{background:#f3f0fa;font-weight:600}tr.body td{background:#faf9fd}
td.ok{color:var(--ok)}td.bad{color:var(--bad);font-weight:700}
ul.why{list-style:none;margin:2px 0 0;padding:0;font-size:11.5px;color:var(--muted);
text-align:right}
ul.why li{white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis;
margin-left:auto}
.small{font-size:11.5px;color:var(--muted)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.alerts{margin-top:18px;display:flex;flex-direction:column;gap:8px}
.alert{display:flex;gap:10px;align-items:flex-start;padding:10px 14px;border-radius:8px;
border:1px solid}
.alert .icon{font-weight:700}
.alert.danger{background:#fdecec;border-color:#f3b7b7;color:#7a1f1f}
.alert.warn{background:#fff6e5;border-color:#f3d59a;color:#7a4b00}
.alert.info{background:#eef4fb;border-color:#c6d8ee;color:#1f3f66}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11.5px;
font-weight:600;color:#fff;background:var(--muted)}
.pill.ok,.pill.kept{background:var(--ok)}.pill.flag,.pill.failed{background:var(--bad)}
.pill.dropped{background:#e08a1e}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;
vertical-align:-1px}
details.reject{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:6px 12px;
background:#fcfcfd}
details.reject summary{cursor:pointer;overflow:hidden;text-overflow:ellipsis}
table.example{margin:8px 0 10px;background:#f7f8fb;border-radius:6px;table-layout:fixed}
table.example th{width:150px;border:0;padding:4px 10px;color:#3e4a57;font-family:ui-monospace,
SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;font-weight:600;vertical-align:top}
table.example td{border:0;border-top:1px solid #eceff4;padding:4px 10px;white-space:pre-wrap;
word-break:break-word;font-size:12.5px}
table.example tr:first-child td{border-top:0}
table.example tr.meta td,table.example tr.meta th{color:var(--muted);font-size:11.5px}
.loopbox,.mixbox{border-top:1px dashed var(--line);margin-top:8px}
.loopbox:first-of-type,.mixbox:first-of-type{border-top:0}
ul.flags{margin:6px 0;padding-left:20px;color:var(--bad)}
.flagcount{font-weight:600;margin:6px 0}.flagcount.bad{color:var(--bad)}
.flagcount.good{color:var(--ok)}
footer{color:var(--muted);font-size:12px;margin-top:24px;text-align:center}
@media print{nav{display:none}section,header{break-inside:avoid}}
"""


def build_report(
    run_dir: str | os.PathLike[str],
    fields: Sequence[str] | None = None,
    *,
    max_sample: int = MAX_SAMPLE,
    facts: OutputFacts | None = None,
) -> str:
    """The report of ``run_dir`` as one HTML page (see the module docstring).

    ``fields`` names the dataset fields measured for lengths, entropy and diversity
    (chat shapes: ``messages.user``, ``messages.assistant``, ...); by default the
    longest common text fields, at most three. ``facts``: what the run that just wrote
    ``run_dir`` gathered of its dataset and rejects (``io/output_facts.py``), so that
    they need not be read back.
    """
    data = load_run(Path(run_dir), max_sample=max_sample, facts=facts)
    return render(data, fields)


def render(data: RunData, fields: Sequence[str] | None = None) -> str:
    """The HTML page for already loaded run data."""
    ts = textstats.text_stats(data, fields)
    div = textstats.diversity(ts)
    m = data.manifest
    name = str(as_dict(m.get("recipe")).get("name") or data.run_dir.name)
    parts: list[tuple[str, str, str]] = [("attrition", "Attrition", attrition(data))]
    if data.loops:
        parts.append(("loops", "Rounds", loops(data)))
    if has_judges(data):
        parts.append(("scores", "Scores", judge_scores(data)))
    parts.append(("lengths", "Lengths", lengths(data, ts)))
    parts.append(("diversity", "Diversity", diversity_section(div, ts)))
    if any(isinstance(as_dict(st).get("mix"), dict) for st in data.nodes.values()):
        parts.append(("mix", "Mix", mix(data)))
    if has_contamination(data):
        parts.append(("contamination", "Contamination", contamination(data)))
    if has_targeted(data):
        parts.append(("targeted", "Targeted", targeted(data)))
    parts.append(("models", "Models", models(data)))
    parts.append(("rejects", "Rejects", rejects(data)))
    nav = (
        '<nav aria-label="sections"><a href="#overview">Overview</a>'
        + "".join(f'<a href="#{sid}">{esc(label)}</a>' for sid, label, _ in parts)
        + "</nav>"
    )
    body = header(data) + render_alerts(alerts(data, div)) + "".join(html for _, _, html in parts)
    version = esc(m.get("synthdsl_version", "?"))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(name)} · synthdsl run report</title><style>{CSS}</style></head>"
        f"<body>{nav}<main>{body}<footer>synthdsl {version} run report · rebuild with "
        "<code>synthdsl report RUN_DIR</code></footer></main></body></html>\n"
    )


def write_report(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    fields: Sequence[str] | None = None,
    facts: OutputFacts | None = None,
) -> Path:
    """Build the report of ``run_dir`` and write it atomically; returns its path."""
    html = build_report(run_dir, fields, facts=facts)
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RunError(f"cannot write the report {path}: {exc.strerror or exc}") from None
    return path
