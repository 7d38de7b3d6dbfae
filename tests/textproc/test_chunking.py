"""Chunking: token spans, sizes, exact overlaps, coverage, boundary preference, the
``chunk`` node, and documents (Markdown, HTML, PDF) → chunks → dataset end to end.

Overlap contract tested here (unit ``tokens``): chunk ``k+1`` starts exactly
``overlap`` tokens before chunk ``k`` ends, always; the boundary preference only moves
where a chunk ends (back by at most 15% of ``size``), never the overlap.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from helpers import make_pdf

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer
from synthdsl.textproc.chunking import Chunk, chunk_text, count_tokens, token_spans


def _tokens(text: str) -> list[str]:
    return [text[s:e] for s, e in token_spans(text)]


def _index(text: str) -> dict[int, int]:
    """Token start offset → token index."""
    return {s: i for i, (s, _) in enumerate(token_spans(text))}


def _check_tokens_contract(text: str, chunks: list[Chunk], size: int, overlap: int) -> None:
    spans = token_spans(text)
    starts = _index(text)
    ends = {e: i + 1 for i, (_, e) in enumerate(spans)}
    window = int(size * 0.15)
    rebuilt: list[tuple[int, int]] = []
    for k, c in enumerate(chunks):
        assert c.index == k
        assert c.text == text[c.start_char : c.end_char]
        assert c.start_char in starts and c.end_char in ends  # cut at token boundaries
        first, stop = starts[c.start_char], ends[c.end_char]
        assert c.n_tokens == stop - first == count_tokens(c.text) <= size
        if k + 1 < len(chunks):
            # Only the last chunk may be short by more than the preference window.
            assert c.n_tokens >= size - window
            nxt = chunks[k + 1]
            assert starts[nxt.start_char] == stop - overlap  # exactly `overlap` shared
            assert _tokens(nxt.text)[:overlap] == _tokens(c.text)[c.n_tokens - overlap :]
        rebuilt += spans[first:stop] if k == 0 else spans[first + overlap : stop]
    assert rebuilt == spans  # the chunks minus their overlaps are the token sequence


# -- tokens -----------------------------------------------------------------------------


def test_token_spans() -> None:
    assert _tokens("Hello, world... (x)->y 3.14") == [
        "Hello", ",", "world", "...", "(", "x", ")->", "y", "3", ".", "14"
    ]  # fmt: skip
    # Combining marks stay with their letter; CJK characters are one token each.
    assert _tokens("e\u0301te\u0301 नमस्ते 你好。") == ["e\u0301te\u0301", "नमस्ते", "你", "好", "。"]
    # Runs longer than 20 characters count one token per 20 characters.
    assert _tokens("a" * 45) == ["a" * 20, "a" * 20, "a" * 5]
    assert _tokens("  \n\t ") == [] and count_tokens("one two, three") == 4


# -- sizes, overlaps, coverage ----------------------------------------------------------


_WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def _document(rng: random.Random, paragraphs: int) -> str:
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(1, 5)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 18))]
            punct = rng.choice([".", "!", "?", ",", ";", "...", ".)"])
            sentences.append(" ".join(words) + punct)
        sep = rng.choice([" ", "  ", "\n"])
        out.append(sep.join(sentences))
    return rng.choice(["\n\n", "\n \n", "\f", "\n\n\n"]).join(out)


@pytest.mark.parametrize(
    ("size", "overlap"), [(1, 0), (2, 1), (7, 0), (10, 3), (20, 19), (50, 8), (128, 16)]
)
def test_sizes_overlaps_and_coverage(size: int, overlap: int) -> None:
    rng = random.Random(size * 1000 + overlap)
    for _ in range(15):
        text = _document(rng, rng.randint(1, 12))
        chunks = chunk_text(text, size=size, overlap=overlap)
        _check_tokens_contract(text, chunks, size, overlap)
        assert chunks == chunk_text(text, size=size, overlap=overlap)  # deterministic


def test_tiny_and_empty_text() -> None:
    assert chunk_text("  Just a few words.\n", size=512, overlap=64) == [
        Chunk("Just a few words.", 0, 2, 19, 5)
    ]
    assert chunk_text("", size=10, overlap=2) == []
    assert chunk_text(" \n\t\f ", size=10, overlap=2) == []
    # Exactly size tokens: one chunk, no overlap tail.
    assert len(chunk_text("a b c d", size=4, overlap=3)) == 1


# -- boundary preference ----------------------------------------------------------------


def _words(n: int, start: int = 0) -> str:
    return " ".join(f"w{i}" for i in range(start, start + n))


def test_paragraph_break_in_the_window_wins() -> None:
    # size 100, window 15: a paragraph break after token 90 (inside the last 15 tokens)
    # and a sentence end after token 95: the chunk ends at the paragraph.
    text = _words(90) + "\n\n" + _words(5, 90) + ". " + _words(40, 95)
    chunks = chunk_text(text, size=100, overlap=10)
    assert chunks[0].n_tokens == 90 and chunks[0].text.endswith("w89")
    assert chunks[1].text.startswith("w80 ")  # overlap still exactly 10 tokens
    _check_tokens_contract(text, chunks, 100, 10)


def test_break_outside_the_window_is_ignored() -> None:
    text = _words(80) + "\n\n" + _words(60, 80)  # the break is 20 tokens before the end
    chunks = chunk_text(text, size=100, overlap=0)
    assert chunks[0].n_tokens == 100 and chunks[1].text.startswith("w100 ")


def test_sentence_end_then_line_break_then_token() -> None:
    text = _words(88) + ".\n" + _words(3, 88) + "! " + _words(40, 91)
    # Sentence ends after "w87 ." (token 89) and after "w90 !" (token 93): the later wins.
    first = chunk_text(text, size=100, overlap=0)[0]
    assert first.text.endswith("w90!") and first.n_tokens == 93
    # A decimal point or a dot without a space after it is not a sentence end.
    text = _words(90) + " 3.14 x.y " + _words(40, 90)
    assert chunk_text(text, size=100, overlap=0)[0].n_tokens == 100
    # No sentence end: the last line break in the window.
    text = _words(88) + "\n" + _words(60, 88)
    assert chunk_text(text, size=100, overlap=0)[0].text.endswith("w87")
    # Closing quotes and brackets after the stop still end the sentence.
    text = _words(90) + ' he said "stop." ' + _words(40, 90)
    assert chunk_text(text, size=100, overlap=0)[0].text.endswith('"stop."')


def test_form_feed_is_a_paragraph_break() -> None:
    text = _words(95) + "\f" + _words(50, 95)
    assert chunk_text(text, size=100, overlap=5)[0].text.endswith("w94")


# -- chars unit -------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "overlap"), [(40, 0), (40, 10), (200, 50), (1000, 100)])
def test_chars_unit(size: int, overlap: int) -> None:
    rng = random.Random(size + overlap)
    for _ in range(10):
        text = _document(rng, rng.randint(1, 10))
        chunks = chunk_text(text, size=size, overlap=overlap, unit="chars")
        starts = _index(text)
        covered: set[int] = set()
        for k, c in enumerate(chunks):
            assert c.text == text[c.start_char : c.end_char]
            assert len(c.text) <= size and c.start_char in starts
            assert c.n_tokens == count_tokens(c.text)
            if k + 1 < len(chunks):
                shared = c.end_char - chunks[k + 1].start_char
                assert shared <= overlap and chunks[k + 1].start_char > c.start_char
                assert len(c.text) >= size * 0.85 - 20  # cut late (minus one token)
            covered |= {s for s in starts if c.start_char <= s < c.end_char}
        assert covered == set(starts)


def test_chars_unit_splits_a_token_longer_than_size() -> None:
    chunks = chunk_text("x" * 25, size=10, overlap=0, unit="chars")
    # 25 characters are tokens of 20 + 5; the 20 is cut at 10.
    assert [c.text for c in chunks] == ["x" * 10, "x" * 10, "x" * 5]


# -- unicode ----------------------------------------------------------------------------


def test_unicode_text() -> None:
    text = ("我们今天去公园散步。天气很好！" * 10) + "\n\n" + ("Ça va très bien, merci. " * 10)
    text += "\n\n" + ("नमस्ते दुनिया। " * 10)
    chunks = chunk_text(text, size=30, overlap=5)
    _check_tokens_contract(text, chunks, 30, 5)
    # CJK full stops end sentences without a space after them.
    assert chunks[0].text.endswith(("。", "！"))
    decomposed = "cafe\u0301 " * 50
    for c in chunk_text(decomposed, size=7, overlap=2):
        assert not c.text.startswith("\u0301") and c.text.endswith("e\u0301")


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0, "overlap": 0}, "at least 1"),
        ({"size": 10, "overlap": -1}, "0 or more"),
        ({"size": 10, "overlap": 10}, r"overlap \(10\) must be smaller than size \(10\)"),
        ({"size": 5, "overlap": 64}, "must be smaller"),
        ({"size": 10.5, "overlap": 1}, "must be an integer"),
        ({"size": True, "overlap": 0}, "must be an integer"),
        ({"size": 10, "overlap": 1, "unit": "words"}, "'tokens' or 'chars'"),
    ],
)
def test_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chunk_text("some text", **kwargs)


# -- the chunk node, end to end ---------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _documents(root: Path) -> None:
    root.mkdir()
    paragraphs = [f"Paragraph {i} says something about topic {i}. It ends here." for i in range(8)]
    (root / "a.md").write_text("# Notes\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    (root / "b.html").write_text(
        "<html><head><title>Page B</title></head><body><nav>Home | About</nav>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "<footer>(c) B</footer></body></html>",
        encoding="utf-8",
    )
    (root / "c.pdf").write_bytes(make_pdf([paragraphs[:4], paragraphs[4:]], title="Doc C"))
    (root / "empty.html").write_text("<title>Nothing</title><script>x()</script>", "utf-8")


RECIPE = """
synthdsl: 1
name: ingest
sources:
  docs: {{path: docs}}
steps:
  - id: pieces
    from: docs
    chunk: {{{chunk}}}
output:
  from: pieces
"""


def _run(project: Path, recipe: str) -> int:
    path = project / "r.yaml"
    path.write_text(recipe, encoding="utf-8")
    return main(["run", str(path), "--quiet", "--out", str(project / "out")])


def test_documents_to_chunks_end_to_end(project: Path) -> None:
    _documents(project / "docs")
    assert _run(project, RECIPE.format(chunk="size: 40, overlap: 8")) == 0
    rows = _read_jsonl(project / "out" / "dataset.jsonl")
    m = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    assert m["status"] == "completed" and m["accounting_balanced"] is True
    node = m["nodes"]["pieces"]
    assert node["in"] == 4 and node["passed"] == 3
    assert node["dropped"] == {"chunk: empty text": 1}
    assert node["out"] == len(rows) == m["output"]["records"]
    rejects = _read_jsonl(project / "out" / "rejects.jsonl")
    assert [r["record"]["path"] for r in rejects] == ["empty.html"]

    by_path: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_path.setdefault(row["path"], []).append(row)
    assert list(by_path) == ["a.md", "b.html", "c.pdf"]
    for chunks in by_path.values():
        assert len(chunks) > 1
        assert [c["chunk_index"] for c in chunks] == list(range(len(chunks)))
        assert {c["chunk_count"] for c in chunks} == {len(chunks)}
        for c in chunks:
            assert "text" not in c  # keep_text: false
            assert count_tokens(c["chunk"]) <= 40
            assert c["chunk_end"] - c["chunk_start"] == len(c["chunk"])
            assert c["_provenance"]["node"] == "pieces"
    assert {c["title"] for c in by_path["b.html"]} == {"Page B"}
    assert {(c["title"], c["pages"]) for c in by_path["c.pdf"]} == {("Doc C", 2)}
    assert "Home" not in " ".join(c["chunk"] for c in by_path["b.html"])
    # Paragraph-sized documents cut at paragraph ends where the window allows.
    assert by_path["a.md"][0]["chunk"].endswith("ends here.")


def test_keep_text_chars_and_into(project: Path) -> None:
    _documents(project / "docs")
    recipe = RECIPE.format(
        chunk="size: 200, overlap: 20, unit: chars, into: passage, keep_text: true"
    )
    assert _run(project, recipe) == 0
    rows = _read_jsonl(project / "out" / "dataset.jsonl")
    assert rows and all(len(r["passage"]) <= 200 for r in rows)
    for r in rows:
        assert r["text"][r["chunk_start"] : r["chunk_end"]] == r["passage"]


def test_chunk_config_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _documents(project / "docs")
    (project / "r.yaml").write_text(RECIPE.format(chunk="size: 50"), encoding="utf-8")
    assert main(["validate", "r.yaml"]) == 2
    err = capsys.readouterr().err
    assert "chunk overlap (64) must be smaller than size (50)" in err
    assert "the default is 64" in err
    (project / "r.yaml").write_text(RECIPE.format(chunk="size: 50, sise: 3"), encoding="utf-8")
    assert main(["validate", "r.yaml"]) == 2
    assert "sise" in capsys.readouterr().err
    (project / "r.yaml").write_text(RECIPE.format(chunk="into: text, keep_text: true"), "utf-8")
    assert main(["validate", "r.yaml"]) == 2
    assert "keep_text" in capsys.readouterr().err
    # The original text is gone downstream unless keep_text is set.
    bad = RECIPE.format(chunk="") + "  fields: [text]\n"
    (project / "r.yaml").write_text(bad, encoding="utf-8")
    assert main(["validate", "r.yaml"]) == 2
    assert "output field 'text' is not provided by step 'pieces'" in capsys.readouterr().err


def test_plan_describes_chunk(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _documents(project / "docs")
    (project / "r.yaml").write_text(RECIPE.format(chunk="size: 300"), encoding="utf-8")
    assert main(["plan", "r.yaml"]) == 0
    out = capsys.readouterr().out
    assert "chunk" in out and "size=300, overlap=64, unit=tokens, into=chunk" in out


QA_RECIPE = """
synthdsl: 1
name: qa-from-docs
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 40}}
sources:
  docs: {{path: docs}}
steps:
  - id: pieces
    from: docs
    chunk: {{size: 60, overlap: 10}}
  - id: qa
    generate:
      model: gen
      into: question
      template: "Write one question this passage answers:\\n\\n{{{{ chunk }}}}"
output:
  from: qa
"""


def test_qa_pairs_keep_their_chunk_and_document(server: FakeOpenAIServer, project: Path) -> None:
    _documents(project / "docs")
    assert _run(project, QA_RECIPE.format(base=server.base_url)) == 0
    rows = _read_jsonl(project / "out" / "dataset.jsonl")
    m = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    assert m["accounting_balanced"] is True
    assert rows and m["totals"]["calls"] == len(rows) == m["nodes"]["pieces"]["out"]
    for r in rows:
        assert r["question"] and r["chunk"] and r["path"] in ("a.md", "b.html", "c.pdf")
        assert isinstance(r["chunk_index"], int)


def test_a_large_document_is_chunked_off_the_event_loop(project: Path) -> None:
    docs = project / "docs"
    docs.mkdir()
    text = "\n\n".join(f"Paragraph {i}. " + _words(30) + "." for i in range(4000))
    assert len(text) > 100_000
    (docs / "big.txt").write_text(text, encoding="utf-8")
    assert _run(project, RECIPE.format(chunk="size: 256, overlap: 32")) == 0
    rows = _read_jsonl(project / "out" / "dataset.jsonl")
    expected = chunk_text(text, size=256, overlap=32)
    assert [r["chunk"] for r in rows] == [c.text for c in expected]
    assert rows[-1]["chunk_end"] == len(text) and rows[0]["chunk_count"] == len(expected)
