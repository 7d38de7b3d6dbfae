"""Ports of used recipes: bound in `with:` alone, or bound to several steps read by a loop body."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from synthdsl.compile import compile_recipe


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    return path


def test_a_first_use_step_binding_every_port_in_with_needs_no_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path,
        "recipes/pair.yaml",
        """
        synthdsl: 1
        sources:
          left: {input: true}
          right: {input: true}
        steps:
          - id: both
            mix: {parts: [{from: left, ratio: 0.5}, {from: right, ratio: 0.5}]}
        """,
    )
    _write(
        tmp_path,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          q: {records: [{instruction: a}]}
          r: {records: [{instruction: b}]}
        steps:
          - id: two
            use: pair
            with: {left: q, right: r}
        """,
    )
    # (it was refused with "step 'two' has no input")
    recipe = compile_recipe("main.yaml")
    assert recipe.graph.nodes["two.both"].inputs == ["q", "r"]


def test_a_loop_body_reading_a_port_bound_to_two_steps_gets_a_feed_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path,
        "recipes/lp.yaml",
        """
        synthdsl: 1
        sources:
          rows: {input: true}
          seeds: {input: true}
        steps:
          - id: grow
            from: seeds
            loop:
              rounds: 2
              steps:
                - id: pick
                  from: rows
                  filter: "len(instruction) > 0"
        """,
    )
    _write(
        tmp_path,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          a: {records: [{instruction: a}]}
          b: {records: [{instruction: b}]}
          s: {records: [{instruction: s}]}
        steps:
          - id: l
            from: [a, b]
            use: lp
            with: {seeds: s}
        """,
    )
    loop = compile_recipe("main.yaml").graph.nodes["l.grow"]
    assert loop.body is not None
    # (both outer ids shared the feed 'l.grow.rows': a was never read and b was read
    # twice, so a run wrote b twice and no a)
    feeds = {n.config.feed for n in loop.body.nodes.values() if n.kind == "pool"}
    assert {"outer:a", "outer:b"} <= feeds
    assert len(set(loop.config.outer.values())) == 2
