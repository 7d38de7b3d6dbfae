"""Hugging Face ``datasets`` sources, written by ``datasets`` itself and read back by a
recipe run: ``save_to_disk`` folders (a ``Dataset``, a ``DatasetDict`` and its
splits), ``.arrow`` files (the IPC stream ``datasets`` writes, and the IPC file
format), Parquet folders, and ``hf:`` through ``datasets.load_dataset`` (a local
folder with configs; a Hub name from the offline cache, in a subprocess). Bad cases
give exit 2 and ``file:line:col``. No network: the Hub is offline throughout.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pytest
from datasets.packaged_modules.parquet.parquet import Parquet
from helpers import read_jsonl

from synthdsl.api import execute, validate
from synthdsl.cli import main
from synthdsl.errors import RunError
from synthdsl.plan import build_plan
from synthdsl.run.options import RunOptions

ROWS: dict[str, list[Any]] = {
    "question": ["What is 2+2?", "Name a prime.", "Spell 'cat'.", "Capital of France?"],
    "answer": ["4", "7", "c-a-t", "Paris"],
    "n": [1, 2, 3, 4],
}
AS_RECORDS = [dict(zip(ROWS, values, strict=True)) for values in zip(*ROWS.values(), strict=True)]


@pytest.fixture(autouse=True)
def _offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Hub: offline, with a cache of this test's own."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # the project's top


def _recipe(tmp_path: Path, source: str, step: str = "filter: 'n > 0'") -> Path:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"synthdsl: 1\nsources:\n  s: {source}\nsteps:\n  - id: keep\n    {step}\n",
        encoding="utf-8",
    )
    return recipe


def _run(recipe: Path, out: Path) -> list[dict[str, Any]]:
    """The rows a run wrote, without their provenance."""
    assert main(["validate", str(recipe)]) == 0
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    return [
        {k: v for k, v in row.items() if not k.startswith("_")}
        for row in read_jsonl(out / "dataset.jsonl")
    ]


def _fails(recipe: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``validate``'s message for a bad recipe (exit 2; ``run`` says the same)."""
    capsys.readouterr()
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert main(["run", str(recipe), "--quiet", "--out", str(recipe.parent / "x")]) == 2
    assert capsys.readouterr().err == err
    return err


def test_a_save_to_disk_folder_round_trips(tmp_path: Path) -> None:
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "data" / "qa"))
    rows = _run(_recipe(tmp_path, "{path: data/qa}"), tmp_path / "out")
    assert rows == AS_RECORDS


def test_validate_checks_the_fields_steps_read_against_a_saved_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "qa"))
    recipe = _recipe(tmp_path, "{path: qa}", "filter: 'score > 0'")
    err = _fails(recipe, capsys)
    assert f"{recipe}:6:14: error: field 'score' is not provided" in err


def test_a_dataset_dict_folder_reads_the_split_it_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = datasets.Dataset.from_dict(ROWS)
    splits = {"train": full.select([0, 1, 2]), "test": full.select([3])}
    datasets.DatasetDict(splits).save_to_disk(str(tmp_path / "dd"))
    assert _run(_recipe(tmp_path, "{path: dd, split: test}"), tmp_path / "a") == AS_RECORDS[3:]
    assert _run(_recipe(tmp_path, "{path: dd, split: train}"), tmp_path / "b") == AS_RECORDS[:3]

    recipe = _recipe(tmp_path, "{path: dd}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:13: error: " in err
    assert "has several splits (train, test); say which with split: NAME" in err

    recipe = _recipe(tmp_path, "{path: dd, split: valid}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:24: error: " in err
    assert "has no split 'valid'; its splits: train, test" in err


def test_a_split_on_a_plain_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "d.jsonl").write_text('{"n": 1}\n', encoding="utf-8")
    err = _fails(_recipe(tmp_path, "{path: d.jsonl, split: train}"), capsys)
    assert ":3:29: error: " in err and "needs a folder saved by datasets" in err


def test_arrow_files_in_both_ipc_formats(tmp_path: Path) -> None:
    # the stream format: what datasets writes for its cache files
    ds = datasets.Dataset.from_dict(ROWS)
    ds.map(lambda row: row, cache_file_name=str(tmp_path / "cache-map.arrow"))
    with (tmp_path / "cache-map.arrow").open("rb") as fh:
        assert fh.read(6) != b"ARROW1"  # no file-format magic: a stream
    assert _run(_recipe(tmp_path, "{path: cache-map.arrow}"), tmp_path / "a") == AS_RECORDS

    # the file format (random access), as pyarrow writes it
    table = pa.table(ROWS)
    with (
        pa.OSFile(str(tmp_path / "table.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write_table(table, max_chunksize=3)  # two record batches
    assert _run(_recipe(tmp_path, "{path: table.arrow}"), tmp_path / "b") == AS_RECORDS


def test_a_file_that_is_not_arrow_is_refused_at_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the run could not read, validate does not accept (and says where)."""
    (tmp_path / "bad.arrow").write_bytes(b"not arrow at all")
    recipe = _recipe(tmp_path, "{path: bad.arrow, allow_empty: true}")
    err = _fails(recipe, capsys)
    assert err.startswith(f"{recipe}:3:13: error: ")
    assert "bad.arrow: not an Arrow IPC file" in err


def test_a_parquet_folder_reads_its_shards_in_order(tmp_path: Path) -> None:
    ds = datasets.Dataset.from_dict(ROWS)
    for i in range(2):
        ds.shard(2, i, contiguous=True).to_parquet(str(tmp_path / "pq" / f"part-{i}.parquet"))
    assert _run(_recipe(tmp_path, "{path: pq}"), tmp_path / "out") == AS_RECORDS


def test_json_arrays_and_json_lines_both(tmp_path: Path) -> None:
    ds = datasets.Dataset.from_dict(ROWS)
    ds.to_json(str(tmp_path / "lines.jsonl"))  # JSON Lines
    ds.to_json(str(tmp_path / "array.json"), lines=False)  # one array
    assert json.loads((tmp_path / "array.json").read_text("utf-8")) == AS_RECORDS
    assert _run(_recipe(tmp_path, "{path: lines.jsonl}"), tmp_path / "a") == AS_RECORDS
    assert _run(_recipe(tmp_path, "{path: array.json}"), tmp_path / "b") == AS_RECORDS


def _local_dataset(root: Path) -> Path:
    """A dataset folder as on the Hub: two configs declared in its README.md, each with
    train and test splits."""
    folder = root / "local-ds"
    full = datasets.Dataset.from_dict(ROWS)
    full.select([0, 1, 2]).to_parquet(str(folder / "main" / "train.parquet"))
    full.select([3]).to_parquet(str(folder / "main" / "test.parquet"))
    extra = datasets.Dataset.from_dict({"question": ["Why?"], "answer": ["Because."], "n": [9]})
    extra.to_parquet(str(folder / "extra" / "train.parquet"))
    extra.to_parquet(str(folder / "extra" / "test.parquet"))
    (folder / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: main\n  default: true\n  data_files:\n"
        "  - {split: train, path: main/train.parquet}\n"
        "  - {split: test, path: main/test.parquet}\n"
        "- config_name: extra\n  data_files:\n"
        "  - {split: train, path: extra/train.parquet}\n"
        "  - {split: test, path: extra/test.parquet}\n"
        "---\n",
        encoding="utf-8",
    )
    return folder


def test_hf_reads_a_local_dataset_folder_with_split_config_and_columns(tmp_path: Path) -> None:
    _local_dataset(tmp_path)
    got = _run(_recipe(tmp_path, "{hf: local-ds, split: train}"), tmp_path / "a")
    assert got == AS_RECORDS[:3]
    got = _run(_recipe(tmp_path, "{hf: ./local-ds, split: test}"), tmp_path / "b")
    assert got == AS_RECORDS[3:]
    got = _run(_recipe(tmp_path, "{hf: local-ds, config: extra, split: test}"), tmp_path / "c")
    assert got == [{"question": "Why?", "answer": "Because.", "n": 9}]
    recipe = _recipe(tmp_path, "{hf: local-ds, split: train, columns: [n, question]}")
    got = _run(recipe, tmp_path / "d")
    assert got == [{"n": r["n"], "question": r["question"]} for r in AS_RECORDS[:3]]
    assert [list(row) for row in got] == [["n", "question"]] * 3  # the order asked


def test_hf_problems_are_reported_where_they_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _local_dataset(tmp_path)
    recipe = _recipe(tmp_path, "{hf: local-ds}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:11: error: " in err and "several splits (train, test)" in err

    recipe = _recipe(tmp_path, "{hf: local-ds, split: train, columns: [n, score]}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:48: error: source 's' has no column 'score'" in err
    assert "hint: its columns: question, answer, n" in err

    recipe = _recipe(tmp_path, "{hf: local-ds, split: train, config: nope}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:43: error: " in err and "nope" in err

    recipe = _recipe(tmp_path, "{hf: local-ds, split: train}", "filter: 'score > 0'")
    assert f"{recipe}:6:14: error: field 'score' is not provided" in _fails(recipe, capsys)

    recipe = _recipe(tmp_path, "{hf: local-ds, split: train, revision: v1}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:35: error: 'revision' applies to Hub datasets" in err

    (tmp_path / "script.py").write_text("import datasets\n", encoding="utf-8")
    err = _fails(_recipe(tmp_path, "{hf: script.py}"), capsys)
    assert ":3:11: error: hf: dataset scripts are not run" in err

    err = _fails(_recipe(tmp_path, "{hf: 'not a name!'}"), capsys)
    assert "is neither a folder here nor a Hub dataset name" in err


def test_paths_outside_the_project_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    _local_dataset(tmp_path)
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "saved"))
    recipe = _recipe(project, "{hf: ../local-ds, split: train}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:11: error: source '../local-ds' is outside the project" in err
    recipe = _recipe(project, "{path: ../saved}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:13: error: source '../saved' is outside the project" in err


def test_columns_of_a_file_source_are_checked_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datasets.Dataset.from_dict(ROWS).to_parquet(str(tmp_path / "qa.parquet"))
    got = _run(_recipe(tmp_path, "{path: qa.parquet, columns: [answer, n]}"), tmp_path / "a")
    assert got == [{"answer": r["answer"], "n": r["n"]} for r in AS_RECORDS]
    recipe = _recipe(tmp_path, "{path: qa.parquet, columns: [answer, nn]}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:43: error: source 's' has no column 'nn'" in err


def test_an_empty_source_of_every_new_format_is_an_error_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = datasets.Dataset.from_dict({"n": []})
    empty.save_to_disk(str(tmp_path / "saved"))
    empty.to_parquet(str(tmp_path / "pq" / "part-0.parquet"))
    empty.to_parquet(str(tmp_path / "local" / "train.parquet"))
    with (
        pa.OSFile(str(tmp_path / "e.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, pa.schema([("n", pa.int64())])),
    ):
        pass
    for source, column in [
        ("{path: saved}", 13),
        ("{path: pq}", 13),
        ("{path: e.arrow}", 13),
        ("{hf: local}", 11),
    ]:
        recipe = _recipe(tmp_path, source)
        assert f"{recipe}:3:{column}: error: source 's' (" in _fails(recipe, capsys), source
        allowed = _recipe(tmp_path, source.replace("}", ", allow_empty: true}"))
        assert main(["run", str(allowed), "--quiet", "--out", str(tmp_path / "out")]) == 0


def test_a_source_emptied_after_validate_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(tmp_path / "saved"))
    compiled = validate(_recipe(tmp_path, "{path: saved}"))
    datasets.Dataset.from_dict({"n": []}).save_to_disk(str(tmp_path / "saved"))
    options = RunOptions(out_dir=str(tmp_path / "out"), report=False)
    with pytest.raises(RunError, match=r"source 's' \(saved\) yielded no rows"):
        asyncio.run(execute(compiled, build_plan(compiled), options))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    assert "source 's' (saved) yielded no rows" in json.dumps(manifest)


def test_without_datasets_hf_sources_say_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # what an absent package looks like
    recipe = _recipe(tmp_path, "{hf: org/name, split: train}")
    err = _fails(recipe, capsys)
    assert f"{recipe}:3:11: error: hf: sources need the datasets library" in err
    assert 'pip install "synthdsl[hf]"' in err


def _cache_hub_dataset(home: Path) -> None:
    """Put ``org/qa`` (configs ``main`` and ``extra``) in the datasets cache under
    ``home``, as ``load_dataset`` leaves a Hub dataset it prepared."""
    data = home / "src"
    full = datasets.Dataset.from_dict(ROWS)
    full.select([0, 1, 2]).to_parquet(str(data / "train.parquet"))
    full.select([3]).to_parquet(str(data / "test.parquet"))
    datasets.Dataset.from_dict({"question": ["Why?"], "answer": ["No."], "n": [9]}).to_parquet(
        str(data / "extra.parquet")
    )
    cache = home / "datasets"
    for config, files in [
        ("main", {"train": data / "train.parquet", "test": data / "test.parquet"}),
        ("extra", {"train": data / "extra.parquet"}),
    ]:
        builder = Parquet(
            cache_dir=str(cache),
            dataset_name="qa",
            config_name=config,
            config_id=config,
            hash="0123456789abcdef",
            data_files={k: str(v) for k, v in files.items()},
        )
        builder.download_and_prepare()
    # The cache names a Hub dataset's folder "org___qa" (its shards stay "qa-SPLIT.arrow").
    (cache / "qa").rename(cache / "org___qa")


def test_hf_reads_a_hub_dataset_from_the_offline_cache(tmp_path: Path) -> None:
    home = tmp_path / "hf-home"
    _cache_hub_dataset(home)
    recipe = _recipe(
        tmp_path,
        "{hf: org/qa, config: main, split: test, columns: [answer]}",
        "filter: 'len(answer) > 0'",
    )
    (tmp_path / "x").mkdir()
    extra = _recipe(tmp_path / "x", "{hf: org/qa, config: extra}")
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    for path, out, want in [
        (recipe, tmp_path / "a", [{"answer": "Paris"}]),
        (extra, tmp_path / "b", [{"question": "Why?", "answer": "No.", "n": 9}]),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "synthdsl.cli", "run", str(path), "--quiet", "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        rows = read_jsonl(out / "dataset.jsonl")
        assert [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows] == want


def test_a_hub_name_that_is_a_folder_of_the_current_one_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # datasets would read ./org/qa (outside the recipe's project) instead of the Hub
    elsewhere = tmp_path / "elsewhere"
    datasets.Dataset.from_dict(ROWS).to_parquet(str(elsewhere / "org" / "qa" / "train.parquet"))
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "pyproject.toml").write_text("", encoding="utf-8")
    recipe = _recipe(tmp_path / "project", "{hf: org/qa, columns: [n]}")
    monkeypatch.chdir(elsewhere)
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "out")]) == 1
    assert "the current folder has a 'org/qa', which datasets would read" in capsys.readouterr().err
