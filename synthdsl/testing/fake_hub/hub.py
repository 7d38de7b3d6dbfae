"""``FakeHub``: the Hugging Face Hub's HTTP API, as much of it as an upload needs.

Takes HTTP requests on a loopback port from ``huggingface_hub`` (``HfApi(endpoint=
hub.url)``); keeps dataset repositories in memory (visibility, branches, files) and
records every request (method, path, ``Authorization`` header). Routes, as the library
(1.x) calls them:

- ``POST /api/repos/create``: JSON ``{name, organization, type, visibility}``; 409 (with
  the ``url``, as the Hub sends it) when the repository exists;
- ``GET /api/{type}s/{ns}/{name}`` (and ``/revision/{rev}``): the repository's info
  (``id``, ``private``, ``sha``, ``siblings``); 404 ``RepoNotFound``;
- ``POST /api/{type}s/{ns}/{name}/branch/{branch}``: a branch from ``main``; 409 when
  it exists;
- ``POST /api/validate-yaml``: accepts any README metadata;
- ``POST /api/{type}s/{ns}/{name}/preupload/{rev}``: every file is uploaded ``regular``
  (inline, base64 in the commit: no LFS, no Xet); 404 ``RevisionNotFound``;
- ``POST /api/{type}s/{ns}/{name}/commit/{rev}``: an ndjson commit (a header, then
  ``file`` entries) stored on the branch.

Every route needs ``Authorization: Bearer <token>`` with the hub's token, else 401 with
``X-Error-Message: Invalid credentials in Authorization header``, as the Hub answers.
``with FakeHub(token="hf_x") as hub: ...`` starts it on a free port in a daemon thread.
Raises ``OSError`` when it cannot listen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["FakeHub", "HubRepo", "HubRequest"]

_REPO = re.compile(r"^/api/(?P<type>datasets|models|spaces)/(?P<id>[^/]+/[^/]+)(?P<rest>/.*)?$")


@dataclass(frozen=True)
class HubRequest:
    method: str
    path: str
    authorization: str | None


@dataclass
class HubRepo:
    repo_id: str
    repo_type: str
    private: bool
    # branch -> file path -> bytes
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    commits: list[dict[str, Any]] = field(default_factory=list)


class FakeHub:
    """See the module docstring."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[HubRequest] = []
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hub._handle(self, "GET")

            def do_POST(self) -> None:
                hub._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads ``hub.requests``."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_repo(self, repo_id: str, *, private: bool = False) -> HubRepo:
        """A repository that exists before the test's upload."""
        repo = self.repos[repo_id] = HubRepo(repo_id, "dataset", private)
        return repo

    # -- the routes ---------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = unquote(urlsplit(h.path).path)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        auth = h.headers.get("Authorization")
        with self._lock:
            self.requests.append(HubRequest(method, path, auth))
            if auth != f"Bearer {self.token}":
                self._send(
                    h,
                    401,
                    {"error": "Invalid credentials in Authorization header"},
                    {"X-Error-Message": "Invalid credentials in Authorization header"},
                )
                return
            status, payload, headers = self._route(method, path, body)
        self._send(h, status, payload, headers)

    def _route(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "POST" and path == "/api/repos/create":
            return self._create(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}, {}
        match = _REPO.match(path)
        if match is None:
            return 404, {"error": f"no route {method} {path}"}, {}
        repo = self.repos.get(match["id"])
        if repo is None or f"{repo.repo_type}s" != match["type"]:
            return 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
        rest = match["rest"] or ""
        if method == "GET" and (rest == "" or rest.startswith("/revision/")):
            branch = rest.removeprefix("/revision/") or "main"
            return self._info(repo, branch)
        verb, _, branch = rest.lstrip("/").partition("/")
        if method == "POST" and verb == "branch":
            if branch in repo.branches:
                return 409, {"error": "Reference already exists"}, {}
            repo.branches[branch] = dict(repo.branches["main"])
            return 200, {}, {}
        if branch not in repo.branches:
            return 404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"}
        if method == "POST" and verb == "preupload":
            files = json.loads(body)["files"]
            return (
                200,
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                },
                {},
            )
        if method == "POST" and verb == "commit":
            return self._commit(repo, branch, body)
        return 404, {"error": f"no route {method} {path}"}, {}

    def _create(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        name, org = payload["name"], payload.get("organization")
        repo_id = f"{org}/{name}" if org else f"user/{name}"
        kind = str(payload.get("type") or "model")
        if repo_id in self.repos:
            url = f"{self.url}/{kind}s/{repo_id}"
            return 409, {"error": "You already created this dataset repo", "url": url}, {}
        self.repos[repo_id] = HubRepo(repo_id, kind, payload.get("visibility") == "private")
        return 200, {"url": f"{self.url}/{kind}s/{repo_id}", "name": repo_id}, {}

    def _info(self, repo: HubRepo, branch: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if branch not in repo.branches:
            return 404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"}
        files = repo.branches[branch]
        return (
            200,
            {
                "id": repo.repo_id,
                "private": repo.private,
                "sha": _sha(files),
                "siblings": [{"rfilename": p} for p in sorted(files)],
            },
            {},
        )

    def _commit(
        self, repo: HubRepo, branch: str, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header: dict[str, Any] = next((x["value"] for x in lines if x["key"] == "header"), {})
        files = repo.branches[branch]
        for item in lines:
            if item["key"] == "file":
                value = item["value"]
                files[value["path"]] = base64.b64decode(value["content"])
        sha = _sha(files)
        repo.commits.append({"branch": branch, "summary": header.get("summary"), "sha": sha})
        url = f"{self.url}/{repo.repo_type}s/{repo.repo_id}/commit/{sha}"
        return 200, {"commitUrl": url, "commitOid": sha, "pullRequestUrl": None}, {}

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: dict[str, str]
    ) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)


def _sha(files: dict[str, bytes]) -> str:
    digest = hashlib.sha1()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path])
    return digest.hexdigest()
