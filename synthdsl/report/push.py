"""A run folder → a dataset repository on the Hugging Face Hub.

Input: a run directory of ``synthdsl run`` (a completed run: its manifest, dataset files
and card), a repository id (``namespace/name``), the token (the caller reads it from
``HF_TOKEN``), and where: ``private``, ``revision`` (a branch, made from ``main`` when
missing) and ``endpoint`` (None: ``huggingface_hub``'s own, ``HF_ENDPOINT`` or the
Hub). Output: ``push_run(...) -> Pushed`` (the files uploaded and the commit URL),
through ``huggingface_hub``: ``create_repo(repo_type="dataset", exist_ok=True)``,
``repo_info``, ``create_branch`` and one ``create_commit`` with the dataset files
(``card.data_files``), the provenance beside them when there is some, and the card
(``README.md``; ``DATASET_CARD.md`` too when the run's README is the user's).

Errors: ``PushError`` (exit 1), one line, never holding the token: no completed run
there, no dataset file, the Hub refused the token, ``--private`` asked of a public
repository that exists, the endpoint cannot be reached, any other answer of the Hub.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.report.card import PROVENANCE_FILE, data_files

__all__ = ["CARD_NAMES", "PushError", "Pushed", "push_run", "upload_names"]

# What a run's card may be called (``run/attempt.py`` decides), uploaded as they are.
CARD_NAMES = ("README.md", "DATASET_CARD.md")


class PushError(RunError):
    """The upload did not happen (exit 1); the message never holds the token."""


@dataclass(frozen=True)
class Pushed:
    repo_id: str
    revision: str
    files: tuple[str, ...]
    commit_url: str


def upload_names(run_dir: Path) -> list[str]:
    """The files ``push_run`` uploads from a completed run: data first (and its
    provenance), then the card."""
    manifest_path = run_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except FileNotFoundError:
        raise PushError(
            f"{run_dir}: no manifest.json; give the output folder of 'synthdsl run'"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PushError(f"{manifest_path}: cannot read it: {exc}") from None
    status = manifest.get("status") if isinstance(manifest, dict) else None
    if status != "completed":
        raise PushError(
            f"{run_dir}: the run is {status or 'unknown'}, not completed; "
            "finish it (synthdsl run) before pushing"
        )
    files = data_files(run_dir)
    if not files:
        raise PushError(f"{run_dir}: no dataset file to push")
    extra = [PROVENANCE_FILE, *CARD_NAMES]
    return files + [name for name in extra if (run_dir / name).is_file()]


def push_run(
    run_dir: Path,
    repo_id: str,
    *,
    token: str,
    private: bool = False,
    revision: str | None = None,
    endpoint: str | None = None,
) -> Pushed:
    """Upload the run in ``run_dir`` to the dataset repository ``repo_id``."""
    names = upload_names(run_dir)
    try:
        return _push(run_dir, names, repo_id, token, private, revision, endpoint)
    except PushError:
        raise
    except Exception as exc:  # the library's and the network's errors, as one line
        raise PushError(_explain(exc, repo_id, endpoint).replace(token, "***")) from None


def _push(
    run_dir: Path,
    names: list[str],
    repo_id: str,
    token: str,
    private: bool,
    revision: str | None,
    endpoint: str | None,
) -> Pushed:
    # huggingface_hub (and httpx under it) load only for a push
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.repo_info(repo_id, repo_type="dataset")
    if private and not info.private:
        raise PushError(
            f"{repo_id} exists and is public; --private does not change it: make it "
            "private on the Hub first, or push without --private"
        )
    branch = revision or "main"
    if branch != "main":
        api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True)
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    recipe = manifest.get("recipe") if isinstance(manifest.get("recipe"), dict) else {}
    commit = api.create_commit(
        repo_id,
        [CommitOperationAdd(path_in_repo=n, path_or_fileobj=str(run_dir / n)) for n in names],
        commit_message=f"synthdsl push: {recipe.get('name', 'dataset')} "
        f"(recipe {recipe.get('hash', '?')})",
        repo_type="dataset",
        revision=branch,
    )
    return Pushed(repo_id, branch, tuple(names), str(commit.commit_url))


def _explain(exc: Exception, repo_id: str, endpoint: str | None) -> str:
    """One line for what went wrong."""
    # the library's error types: only once a push failed
    import httpx
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    where = endpoint or "the Hugging Face Hub"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach {where}: {type(exc).__name__}: {exc}"
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status == 401:
            return f"{where} refused the token in HF_TOKEN (401): check it is valid"
        if status == 403:
            return f"{where} refused to write to {repo_id} (403): the token needs write access"
        if isinstance(exc, RepositoryNotFoundError):
            return f"{repo_id}: no such dataset repository at {where}, or no access to it"
        return f"{where} answered {status} for {repo_id}: {_server_message(exc.response)}"
    first = str(exc).strip().splitlines()
    return f"push to {repo_id} failed: {type(exc).__name__}: {first[0] if first else ''}"


def _server_message(response: Any) -> str:
    try:
        body = response.json()
    except Exception:  # not JSON: the status says enough
        return "no details"
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else "no details"
