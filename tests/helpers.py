"""Small helpers shared by the tests that run recipes through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from synthdsl.cli import main
from synthdsl.packs.scaffold import pack_files


def run(recipe: Path, *args: str) -> int:
    """``synthdsl run RECIPE`` quietly into ``<recipe's folder>/out``."""
    return main(["run", str(recipe), "--quiet", "--out", str(recipe.parent / "out"), *args])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def rows(project: Path) -> list[dict[str, Any]]:
    """The dataset written to ``project/out``."""
    return read_jsonl(project / "out" / "dataset.jsonl")


def manifest(project: Path) -> dict[str, Any]:
    """The manifest written to ``project/out``."""
    data: dict[str, Any] = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    return data


def run_completed(
    recipe: Path, out: Path, *args: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """``synthdsl run RECIPE --out OUT ARGS`` must complete with balanced accounting;
    returns the dataset rows, the rejects and the manifest."""
    assert main(["run", str(recipe), "--quiet", "--out", str(out), *args]) == 0
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    assert data["status"] == "completed" and data["accounting_balanced"] is True
    rejects = out / "rejects.jsonl"
    return (
        read_jsonl(out / "dataset.jsonl"),
        read_jsonl(rejects) if rejects.exists() else [],
        data,
    )


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF written by hand: one page per list, one Helvetica text line
    per string (catalog, page tree, pages with content streams, a font, an xref table
    with the real byte offsets, and a trailer)."""
    n = len(pages)
    font = 3 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
    ]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += [f"({escaped}) Tj", "T*"]
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info = ""
    if title is not None:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_pack(root: Path, name: str = "demo", version: str = "0.1.0") -> Path:
    """The starter pack ``pack new`` makes, at ``root``, with ``version``."""
    for rel, text in pack_files(name).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel == "pack.yaml":
            text = text.replace("version: 0.1.0", f"version: {version}")
        target.write_text(text, encoding="utf-8")
    return root


def ray_worker_pids() -> list[int]:
    """The processes of the Ray executor's worker actors started under this process (the
    test's own Ray instance): another Ray on the machine is left alone."""
    me = os.getpid()
    parents: dict[int, int] = {}
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if cmd.startswith(b"ray::MapWorker"):
            workers.append(int(entry.name))

    def under_me(pid: int) -> bool:
        seen = 0
        while pid > 1 and seen < 64:
            if pid == me:
                return True
            pid, seen = parents.get(pid, 0), seen + 1
        return False

    return [pid for pid in workers if under_me(pid)]
