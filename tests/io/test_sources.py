"""Source readers: formats, folders, limits, errors, peek_fields, streaming, fingerprints."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest
from helpers import make_pdf

from synthdsl.errors import RunError
from synthdsl.io.readers import (
    SourceError,
    SourceReader,
    peek_fields,
    read_source,
    source_files,
    source_fingerprint,
)


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), str(path))
    return path


# -- formats ----------------------------------------------------------------------------


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(
        '{"q": "a", "n": 1}\n\n   \n{"q": "ü", "n": 2, "tags": ["x"]}\n', encoding="utf-8"
    )
    assert list(read_source(path)) == [{"q": "a", "n": 1}, {"q": "ü", "n": 2, "tags": ["x"]}]


def test_jsonl_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n{"a": 2}\r\n')
    assert list(read_source(path)) == [{"a": 1}, {"a": 2}]


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('q,a\nhello,"multi\nline"\nx,y\n', encoding="utf-8")
    assert list(read_source(path)) == [{"q": "hello", "a": "multi\nline"}, {"q": "x", "a": "y"}]


def test_csv_long_field(tmp_path: Path) -> None:
    big = "w" * 300_000
    path = tmp_path / "data.csv"
    path.write_text(f"text\n{big}\n", encoding="utf-8")
    assert list(read_source(path)) == [{"text": big}]


def test_csv_row_with_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n1,2,3\n4,5\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"data\.csv:3: row has 3 fields, the header has 2"):
        list(read_source(path))
    reader = SourceReader(path, on_error="skip")
    assert list(reader) == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]
    assert [line for line, _ in reader.problems] == [3]


def test_parquet(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"q": f"q{i}", "n": i} for i in range(2500)]
    path = _write_parquet(tmp_path / "data.parquet", rows)
    assert list(read_source(path)) == rows
    assert list(read_source(path, limit=3)) == rows[:3]


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_text("nope", encoding="utf-8")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        list(read_source(path))


def test_text_and_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("# Title\n\nBody.\n", encoding="utf-8")
    assert list(read_source(tmp_path / "note.md")) == [
        {"text": "# Title\n\nBody.\n", "path": "note.md"}
    ]
    (tmp_path / "a.txt").write_text("plain", encoding="utf-8")
    assert list(read_source(tmp_path / "a.txt", text_field="doc")) == [
        {"doc": "plain", "path": "a.txt"}
    ]


def test_forced_format(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "data.log", [{"a": 1}])
    with pytest.raises(SourceError, match="cannot tell the format"):
        list(read_source(path))
    assert list(read_source(path, fmt="jsonl")) == [{"a": 1}]
    assert list(read_source(path, fmt="text")) == [{"text": '{"a": 1}\n', "path": "data.log"}]
    with pytest.raises(SourceError, match="unknown source format"):
        read_source(path, fmt="xml")


# -- folders ----------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".hidden").mkdir()
    (root / "z.md").write_text("Z", encoding="utf-8")
    (root / "a" / "2.txt").write_text("A2", encoding="utf-8")
    (root / "a" / "10.md").write_text("A10", encoding="utf-8")
    (root / "b" / "rows.jsonl").write_text('{"text": "row1"}\n{"text": "row2"}\n', "utf-8")
    (root / "b" / "rows.csv").write_text("text\nc1\n", encoding="utf-8")
    (root / "b" / "image.png").write_bytes(b"\x89PNG")
    (root / ".hidden" / "x.md").write_text("hidden", encoding="utf-8")
    (root / ".dotfile.md").write_text("hidden", encoding="utf-8")
    return root


def test_folder_walk_is_sorted_and_recursive(tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    rows = list(read_source(root))
    assert rows == [
        {"text": "A10", "path": "a/10.md"},
        {"text": "A2", "path": "a/2.txt"},
        {"text": "c1"},
        {"text": "row1"},
        {"text": "row2"},
        {"text": "Z", "path": "z.md"},
    ]
    assert [p.relative_to(root).as_posix() for p in source_files(root)] == [
        "a/10.md",
        "a/2.txt",
        "b/rows.csv",
        "b/rows.jsonl",
        "z.md",
    ]


def test_folder_glob(tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    assert [r["path"] for r in read_source(root, glob="*.md")] == ["a/10.md", "z.md"]
    assert [r["path"] for r in read_source(root, glob="a/*")] == ["a/10.md", "a/2.txt"]
    assert list(read_source(root, glob="**/*.jsonl")) == [{"text": "row1"}, {"text": "row2"}]
    with pytest.raises(SourceError, match="cannot tell the format"):
        list(read_source(root, glob="*.png"))


def test_limit_spans_files(tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    assert len(list(read_source(root, limit=4))) == 4
    assert list(read_source(root, limit=0)) == []
    with pytest.raises(SourceError, match="limit"):
        read_source(root, limit=-1)


def test_limit_on_jsonl(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "d.jsonl", [{"i": i} for i in range(100)])
    assert list(read_source(path, limit=5)) == [{"i": i} for i in range(5)]


# -- errors -----------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError, match=r"nope\.jsonl: no such file") as info:
        read_source(missing)
    assert isinstance(info.value, RunError)
    with pytest.raises(SourceError, match="no such file"):
        list(SourceReader(missing))


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2,}\n{"a": 3}\n', encoding="utf-8")
    rows = read_source(path)
    assert next(rows) == {"a": 1}
    with pytest.raises(SourceError, match=r"d\.jsonl:3: invalid JSON: ") as info:
        next(rows)
    assert "Expecting property name" in str(info.value)


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', "42", "null"])
def test_jsonl_non_object_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(f'{{"a": 1}}\n{line}\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"d\.jsonl:2: expected a JSON object"):
        list(read_source(path))


def test_skip_mode_records_problems(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n[1]\n\xff\xfe\n{"a": 2}\n')
    reader = SourceReader(path, on_error="skip")
    assert list(reader) == [{"a": 1}, {"a": 2}]
    assert [line for line, _ in reader.problems] == [2, 3, 4]
    assert all(message.startswith(f"{path}:") for _, message in reader.problems)
    assert "not UTF-8" in reader.problems[2][1]
    # A second pass starts afresh.
    assert len(list(reader)) == 2 and len(reader.problems) == 3


def test_text_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(SourceError, match="not UTF-8"):
        list(read_source(path))
    reader = SourceReader(path, on_error="skip")
    assert list(reader) == []
    assert reader.problems[0][0] == 0


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("", encoding="utf-8")
    assert list(read_source(path)) == []


# -- peek_fields ------------------------------------------------------------------------


def test_peek_fields_jsonl_order_and_sample(tmp_path: Path) -> None:
    rows: list[object] = [{"b": 1, "a": 2}, {"a": 3, "c": 4}, *([{"a": 0}] * 30), {"late": 1}]
    path = _write_jsonl(tmp_path / "d.jsonl", rows)
    assert peek_fields(path) == ["b", "a", "c"]
    assert peek_fields(path, sample=1) == ["b", "a"]
    assert peek_fields(path, sample=100) == ["b", "a", "c", "late"]


def test_peek_fields_csv_parquet_text(tmp_path: Path) -> None:
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("x,y\n", encoding="utf-8")
    assert peek_fields(csv_path) == ["x", "y"]
    pq_path = _write_parquet(tmp_path / "d.parquet", [{"q": "a", "n": 1}])
    assert peek_fields(pq_path) == ["q", "n"]
    md = tmp_path / "n.md"
    md.write_text("hi", encoding="utf-8")
    assert peek_fields(md, text_field="doc") == ["doc", "path"]
    with pytest.raises(SourceError, match="no such file"):
        peek_fields(tmp_path / "missing.csv")


def test_peek_fields_folder(tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    assert peek_fields(root) == ["text", "path"]
    assert peek_fields(root, glob="*.jsonl") == ["text"]


# -- streaming --------------------------------------------------------------------------


def test_first_row_of_a_large_file_is_read_lazily(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    filler = "x" * 100
    with path.open("w", encoding="utf-8") as fh:
        for i in range(200_000):
            fh.write(f'{{"i": {i}, "text": "{filler}"}}\n')
    assert path.stat().st_size > 20_000_000

    tracemalloc.start()
    try:
        rows = read_source(path)
        first = next(rows)
        _, peak_first = tracemalloc.get_traced_memory()
        count = 1 + sum(1 for _ in rows)
        _, peak_all = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first["i"] == 0
    assert count == 200_000
    assert peak_first < 5_000_000
    assert peak_all < 5_000_000  # the whole pass stays small too


# -- fingerprints -----------------------------------------------------------------------


def test_fingerprint_changes_with_files(tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    first = source_fingerprint(root)
    assert first == source_fingerprint(root)
    target = root / "a" / "2.txt"
    target.write_text("A2 changed", encoding="utf-8")
    assert source_fingerprint(root) != first
    single = source_fingerprint(target)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert source_fingerprint(target) != single
    with pytest.raises(SourceError):
        source_fingerprint(tmp_path / "missing")


# -- documents: HTML, PDF, YAML lists ---------------------------------------------------


def _encrypted_pdf(data: bytes, user_password: str) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title> Caf&eacute; &amp; Tea
   guide</title><style>p { color: red }</style>
<script>var s = "<p>not text</p>";</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<header><h1>The   Caf&eacute;   Guide</h1></header>
<main>
<p>First    paragraph with <b>bold</b> and
   <a href="#x">a link</a>.</p><p>Second &lt;para&gt; &#8212; dash&nbsp;here.<br>After a break.</p>
<h2>Lists</h2>
<ul><li>One</li><li>Two<ul><li>Nested</li></ul></li></ul>
<ol><li>alpha<li>beta</ol>
<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>31</td></tr></table>
<pre><code>def f():
    return  1
</code></pre>
<noscript>Enable JavaScript</noscript><svg><title>icon</title><text>svg text</text></svg>
<!-- a comment -->
</main>
<footer>Copyright 2024</footer>
</body></html>
"""

PAGE_TEXT = """The Café Guide

First paragraph with bold and a link.

Second <para> — dash here.
After a break.

Lists

- One
- Two
  - Nested

1. alpha
2. beta

Name | Age
Ann | 31

def f():
    return  1"""


def test_html_readable_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    assert list(read_source(path)) == [
        {"text": PAGE_TEXT, "path": "page.html", "title": "Café & Tea guide"}
    ]
    (tmp_path / "b.htm").write_text("<h1>Only a <i>heading</i></h1>body", encoding="utf-8")
    (tmp_path / "c.htm").write_text("", encoding="utf-8")
    assert list(read_source(tmp_path / "b.htm", text_field="doc")) == [
        {"doc": "Only a heading\n\nbody", "path": "b.htm", "title": "Only a heading"}
    ]
    assert list(read_source(tmp_path / "c.htm")) == [{"text": "", "path": "c.htm", "title": ""}]


def test_html_encodings(tmp_path: Path) -> None:
    latin = tmp_path / "latin.html"
    latin.write_bytes(b'<meta charset="windows-1252"><p>caf\xe9 \x93quoted\x94</p>')
    assert next(read_source(latin))["text"] == "café “quoted”"
    bom = tmp_path / "bom.html"
    bom.write_bytes(b"\xef\xbb\xbf<p>\xc3\xbc</p>")
    assert next(read_source(bom))["text"] == "ü"
    bad = tmp_path / "bad.html"
    bad.write_bytes(b"<p>\xff\xfe\xfa</p>")
    with pytest.raises(SourceError, match=r"bad\.html: cannot decode the HTML"):
        list(read_source(bad))
    reader = SourceReader(bad, on_error="skip")
    assert list(reader) == [] and reader.problems[0][0] == 0


def test_pdf_text_pages_and_title(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(
        make_pdf(
            [["Hello PDF world.", "Second line (with parens)."], ["Page two text."]],
            title="My Document",
        )
    )
    rows = list(read_source(path))
    assert rows == [
        {
            "text": "Hello PDF world.\nSecond line (with parens).\fPage two text.",
            "path": "doc.pdf",
            "title": "My Document",
            "pages": 2,
        }
    ]
    assert rows[0]["text"].split("\f")[1] == "Page two text."
    untitled = tmp_path / "untitled.pdf"
    untitled.write_bytes(make_pdf([["Just one page."]]))
    assert list(read_source(untitled, text_field="body")) == [
        {"body": "Just one page.", "path": "untitled.pdf", "title": "", "pages": 1}
    ]


def test_pdf_encrypted(tmp_path: Path) -> None:
    plain = make_pdf([["Secret text."]])
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(_encrypted_pdf(plain, "s3cret"))
    with pytest.raises(SourceError, match=r"locked\.pdf: encrypted PDF that needs a password"):
        list(read_source(locked))
    # Encrypted with an empty user password (permissions only): readable.
    open_pdf = tmp_path / "open.pdf"
    open_pdf.write_bytes(_encrypted_pdf(plain, ""))
    assert next(read_source(open_pdf))["text"] == "Secret text."
    reader = SourceReader(tmp_path, on_error="skip")
    assert [r["path"] for r in reader] == ["open.pdf"]
    assert len(reader.problems) == 1 and "locked.pdf" in reader.problems[0][1]


@pytest.mark.parametrize(
    "data", [b"", b"%PDF-1.4\ngarbage", b"not a pdf at all", make_pdf([["x"]])[:200]]
)
def test_pdf_broken(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=r"broken\.pdf: not a readable PDF"):
        list(read_source(path))
    reader = SourceReader(path, on_error="skip")
    assert list(reader) == []
    assert reader.problems[0][0] == 0 and str(path) in reader.problems[0][1]


def test_yaml_list_of_mappings(tmp_path: Path) -> None:
    path = tmp_path / "principles.yaml"
    path.write_text(
        "- {name: honesty, text: Say what you know.}\n"
        "- name: care\n  text: |\n    Think of the reader.\n  added: 2024-05-01\n",
        encoding="utf-8",
    )
    assert list(read_source(path)) == [
        {"name": "honesty", "text": "Say what you know."},
        {"name": "care", "text": "Think of the reader.\n", "added": "2024-05-01"},
    ]
    wrapped = tmp_path / "wrapped.yml"
    wrapped.write_text("principles:\n  - {id: 1}\n  - {id: 2}\n", encoding="utf-8")
    assert list(read_source(wrapped)) == [{"id": 1}, {"id": 2}]
    assert peek_fields(path) == ["name", "text", "added"]
    assert list(read_source(path, limit=1)) == [{"name": "honesty", "text": "Say what you know."}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"x\.yaml: empty YAML file"),
        ("just a string\n", r"x\.yaml:1: expected a list of mappings, got a scalar"),
        ("a: [1]\nb: [2]\n", r"x\.yaml:1: .*got a mapping with 2 keys"),
        ("a: 1\n", r"x\.yaml:1: .*got a mapping with 1 key$"),
        ("- {a: 1}\n- [1, 2]\n", r"x\.yaml:2: item 2 is a list, expected a mapping"),
        ("- {a: 1, a: 2}\n", r"x\.yaml:1: duplicate key 'a'"),
        ("- {a: 1}\n- a: b: c\n", r"x\.yaml:2: invalid YAML: mapping values are not allowed"),
        ("--- [{a: 1}]\n--- [{a: 2}]\n", r"x\.yaml:\d+: invalid YAML: "),
    ],
)
def test_yaml_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        list(read_source(path))


def test_yaml_skip_mode_keeps_good_items(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("- {a: 1}\n- oops\n- {a: 2, a: 3}\n- {a: 4}\n", encoding="utf-8")
    reader = SourceReader(path, on_error="skip")
    assert list(reader) == [{"a": 1}, {"a": 4}]
    assert [line for line, _ in reader.problems] == [2, 3]


def test_folder_walk_reads_documents(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text("markdown", encoding="utf-8")
    (root / "b.html").write_text("<title>B</title><p>html</p>", encoding="utf-8")
    (root / "c.pdf").write_bytes(make_pdf([["pdf"]]))
    (root / "d.yaml").write_text("- {text: yaml}\n", encoding="utf-8")
    (root / "e.htm").write_text("<p>htm</p>", encoding="utf-8")
    (root / "f.yml").write_text("- {text: yml}\n", encoding="utf-8")
    assert [r["text"] for r in read_source(root)] == [
        "markdown",
        "html",
        "pdf",
        "yaml",
        "htm",
        "yml",
    ]
    assert peek_fields(root) == ["text", "path", "title", "pages"]
    assert peek_fields(root, glob="*.htm*") == ["text", "path", "title"]
    # A forced format applies to every file read.
    (root / "page.txt").write_text("<p>forced</p>", encoding="utf-8")
    assert list(read_source(root / "page.txt", fmt="html")) == [
        {"text": "forced", "path": "page.txt", "title": ""}
    ]
