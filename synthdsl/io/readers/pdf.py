"""PDF documents: one row per file, the pages' text extracted with pypdf.

Input: a ``.pdf`` file and the ``ReadContext`` of the reader driving it. Output: one
row ``{text_field: text, "path": relative path, "title": ..., "pages": n}`` (``FIELDS``
names the fields besides the text field). pypdf is imported on first use; pages are
joined with a form feed (``text.split("\\f")`` gives the pages back); ``title`` is the
document's metadata title or "". An encrypted PDF is opened when its user password is
empty.

Raises ``SourceError`` when pypdf is not installed. A PDF that is encrypted with a
password, broken or otherwise unreadable is reported through ``ctx.problem`` (raises
``SourceError`` naming the file, or skips it). ``OSError`` passes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, SourceError

__all__ = ["FIELDS", "read_pdf"]

FIELDS = ("path", "title", "pages")


def read_pdf(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """``file`` as one row: the text of its pages, its title and page count."""
    pypdf = _import_pypdf()
    try:
        title, pages = _pdf_pages(pypdf, file)
    except _DocumentProblem as exc:
        ctx.problem(file, 0, str(exc))
        return
    yield {
        ctx.text_field: "\f".join(pages),
        "path": ctx.rel(file),
        "title": title,
        "pages": len(pages),
    }


class _DocumentProblem(Exception):
    """A document file cannot be read; the message says why (without the file name)."""


def _import_pypdf() -> Any:
    try:
        # Imported here: pypdf is optional; only PDF sources need it.
        import pypdf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SourceError("reading PDF needs pypdf: pip install pypdf") from exc
    return pypdf


def _clean_page(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return text.replace("\x00", "").strip()


def _pdf_pages(pypdf: Any, file: Path) -> tuple[str, list[str]]:
    """The metadata title and the text of every page of a PDF.

    Raises _DocumentProblem for encrypted (with a password), broken or otherwise
    unreadable PDFs; OSError when the file cannot be opened.
    """
    with file.open("rb") as fh:
        try:
            reader = pypdf.PdfReader(fh)
        except Exception as exc:  # pypdf raises many kinds on broken files
            raise _DocumentProblem(f"not a readable PDF: {_describe(exc)}") from exc
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # e.g. AES without the cryptography package
                raise _DocumentProblem(f"encrypted PDF, cannot decrypt: {_describe(exc)}") from exc
            if not opened:
                raise _DocumentProblem(
                    "encrypted PDF that needs a password; decrypt it first "
                    "(for example: qpdf --decrypt --password=... in.pdf out.pdf)"
                )
        try:
            pages = [_clean_page(page.extract_text()) for page in reader.pages]
            metadata = reader.metadata
            title = metadata.title if metadata is not None else None
        except Exception as exc:
            raise _DocumentProblem(f"not a readable PDF: {_describe(exc)}") from exc
    title_text = " ".join(str(title).replace("\x00", "").split()) if title else ""
    return title_text, pages


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
