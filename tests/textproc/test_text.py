"""Tokens, normalisation and extraction of lists, JSON and code from LLM outputs."""

from __future__ import annotations

import functools
import random
import re
import sys
import unicodedata

import pytest

from synthdsl.textproc import tokens
from synthdsl.textproc.extract import ExtractError, extract_code, extract_json, extract_list
from synthdsl.textproc.tokens import normalize_for_exact, tokenize, words

# ---------------------------------------------------------------- tokens


def test_tokenize_english() -> None:
    assert tokenize("Write a POEM, about cats!") == ["write", "a", "poem", "about", "cats"]
    assert tokenize("snake_case and 3.14") == ["snake", "case", "and", "3", "14"]
    assert tokenize("") == []
    assert tokenize("... !!! ---") == []


def test_tokenize_non_ascii() -> None:
    ru = tokenize("Напишите короткое стихотворение о зимнем лесе.")
    assert ru == ["напишите", "короткое", "стихотворение", "о", "зимнем", "лесе"]
    zh = tokenize("写一首关于秋天的短诗。")
    assert zh == ["写", "一", "首", "关", "于", "秋", "天", "的", "短", "诗"]
    assert tokenize("Café crème brûlée") == ["café", "crème", "brûlée"]
    # Decomposed accents and Devanagari vowel signs stay inside their word.
    assert tokenize("cafe\u0301 ok") == ["café", "ok"]
    assert tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    # CJK next to Latin letters is still split per character.
    assert tokenize("用Python写代码") == ["用", "python", "写", "代", "码"]
    # Full-width forms fold to ASCII.
    assert tokenize("Ｈｅｌｌｏ") == ["hello"]


def test_the_skipped_ranges_hold_no_combining_mark() -> None:
    """The mark scan skips ranges; it must find exactly what a scan of every code point does."""
    every = {
        cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("M")
    }
    scanned = set(tokens._code_points_that_may_be_marks())
    assert every and every <= scanned
    assert len(scanned) < (sys.maxunicode + 1) // 4  # the skip is what makes it fast


def test_words_and_exact_key() -> None:
    assert words("  one two\tthree\nfour ") == 4
    assert words("") == 0
    assert normalize_for_exact("  Hello\t\n WORLD  ") == "hello world"
    assert normalize_for_exact("Straße") == normalize_for_exact("STRASSE")
    assert normalize_for_exact("ｆｕｌｌ width") == "full width"


# ---------------------------------------------------------------- lists


def test_extract_numbered_list_with_preamble_and_trailer() -> None:
    text = (
        "Here are three tasks:\n\n"
        "1. Write a poem about the sea.\n"
        '2) "Explain recursion to a child."\n'
        "3. Sort a list of numbers\n"
        "   in descending order.\n"
        "\n"
        "Let me know if you need more!"
    )
    assert extract_list(text) == [
        "Write a poem about the sea.",
        "Explain recursion to a child.",
        "Sort a list of numbers\nin descending order.",
    ]


def test_extract_labelled_and_parenthesised() -> None:
    assert extract_list("Task 1: foo\nTask 2: bar\nTask #3: baz") == ["foo", "bar", "baz"]
    assert extract_list("(1) alpha\n(2) beta") == ["alpha", "beta"]
    assert extract_list("Q1. first?\nQ2. second?") == ["first?", "second?"]


def test_extract_bullets_and_nested() -> None:
    assert extract_list("- a\n* b\n• c\n+ d") == ["a", "b", "c", "d"]
    nested = "1. Outer one\n   - detail\n2. Outer two"
    assert extract_list(nested) == ["Outer one\n- detail", "Outer two"]


def test_extract_list_fallback_lines_dedup_and_quotes() -> None:
    text = "\n“First idea”\n'second idea'\n\nFirst idea\n  third  \n"
    assert extract_list(text) == ["First idea", "second idea", "third"]


def test_extract_list_not_fooled_by_numbers_or_bold() -> None:
    # "1.5 cups" and "**Note**" are not markers; without markers, lines are items.
    assert extract_list("1.5 cups of flour\n**Note** mix well") == [
        "1.5 cups of flour",
        "**Note** mix well",
    ]


def test_extract_list_drops_empty_items_and_min_len() -> None:
    assert extract_list("1. a\n2.\n3. c") == ["a", "c"]
    with pytest.raises(ExtractError, match="at least 3 items, found 2"):
        extract_list("1. a\n2. b", min_len=3)
    with pytest.raises(ExtractError, match="empty output"):
        extract_list("   \n ")


# ---------------------------------------------------------------- JSON


def test_extract_json_whole_and_fenced() -> None:
    assert extract_json(' {"a": 1} ') == {"a": 1}
    assert extract_json("42") == 42
    fenced = 'Sure!\n```json\n{"a": [1, 2]}\n```\nDone.'
    assert extract_json(fenced) == {"a": [1, 2]}
    # A json-tagged fence wins over an earlier fence of something else.
    two = '```\nnot json\n```\n```json\n{"b": 2}\n```'
    assert extract_json(two) == {"b": 2}


def test_extract_json_in_prose_with_braces_in_strings() -> None:
    text = 'The answer is {"code": "if (x) { return \\"}\\"; }", "n": [1, {"m": 2}]} — ok?'
    assert extract_json(text) == {"code": 'if (x) { return "}"; }', "n": [1, {"m": 2}]}
    assert extract_json('Result: [{"q": "a]b"}, {"q": "c"}] end') == [{"q": "a]b"}, {"q": "c"}]


def test_extract_json_skips_broken_spans() -> None:
    # The outer object is invalid (single quotes), the inner one parses.
    assert extract_json('{\'bad\': 1, "x": {"ok": true}}') == {"ok": True}
    # An unbalanced opener before the real value.
    assert extract_json('Use { carefully. {"a": 1}') == {"a": 1}


def test_extract_json_errors() -> None:
    with pytest.raises(ExtractError, match="no object or array"):
        extract_json("no json here")
    with pytest.raises(ExtractError, match="parses"):
        extract_json("{not: json}")
    with pytest.raises(ExtractError, match="empty"):
        extract_json("")


# ---------------------------------------------------------------- code


def test_extract_code_language_choice() -> None:
    text = "Intro\n```bash\npip install x\n```\n```py\nprint('hi')\n```\n"
    assert extract_code(text, "python") == "print('hi')"
    assert extract_code(text) == "pip install x"
    assert extract_code(text, "sh") == "pip install x"


def test_extract_code_fallbacks() -> None:
    untagged = "```js\nconsole.log(1)\n```\n```\nx = 1\n```"
    assert extract_code(untagged, "python") == "x = 1"
    only_other = "```js\nconsole.log(1)\n```"
    assert extract_code(only_other, "python") == "console.log(1)"


def test_extract_code_tildes_long_fences_and_unterminated() -> None:
    assert extract_code("~~~python\na = 1\n~~~") == "a = 1"
    nested = "````markdown\n```python\ninner\n```\n````"
    assert extract_code(nested) == "```python\ninner\n```"
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n") == "def f():\n    return 1"
    assert extract_code("```python\nx = 2```") == "x = 2"
    assert extract_code("```python\n```") == ""


def test_extract_code_indented_in_list_item() -> None:
    text = "1. Define it:\n\n    ```python\n    def f():\n        return 1\n    ```\n"
    assert extract_code(text, "python") == "def f():\n    return 1"


def test_extract_code_error() -> None:
    with pytest.raises(ExtractError, match="no fenced code block"):
        extract_code("def f(): pass", "python")


@functools.lru_cache(maxsize=1)
def _by_alternation() -> re.Pattern[str]:
    """The tokenizer's definition, written the slow way: runs of (word character but not
    underscore) or combining mark."""
    return re.compile(f"(?:[^\\W_]|[{tokens._combining_mark_class()}])+")


def _tokenize_by_alternation(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return _by_alternation().findall(tokens._CJK_RE.sub(r" \g<0> ", text))


def test_the_fast_tokenizer_paths_agree_with_the_definition() -> None:
    alphabet = (
        "abcXYZ019 _-.,!?'\"\t\n"  # ASCII, underscores, punctuation
        "éÉñßŒﬁＡｂ１"  # accents, ligature, full-width forms
        "\u0301\u0308\u093f\u0e31"  # combining marks: acute, diaeresis, Devanagari, Thai
        "नमस्तेสวัสดี你好カタｶﾀ한국어Привет"  # other scripts
        "\u200d\U0001f600_"  # joiner, emoji
    )
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert tokenize(text) == _tokenize_by_alternation(text), repr(text)
    for text in ("snake_case_name and __dunder__", "a_b_ c__d", "ASCII only, 42 words!"):
        assert tokenize(text) == _tokenize_by_alternation(text)
