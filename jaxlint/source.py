"""Reading source files the way Python does (PEP 263 encodings, BOM), with one-line errors."""

from __future__ import annotations

import errno
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaxlint.notebooks import NotebookSource

_NEWLINE = re.compile(r"\r\n|\r|\n")
# PEP 263's cookie, as tokenize matches it.
_COOKIE = re.compile(rb"(?m)^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


class SourceError(Exception):
    """A file that cannot be read or decoded; the message is one line."""


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError("symlink loop") from None
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def read_source(path: Path) -> str:
    """The Python text of a file (of a notebook: its code cells joined, see ``notebooks``)."""
    return read_source_info(path).text


def _encoding(raw: bytes) -> str:
    """The codec Python would use (PEP 263 cookie, BOM, else UTF-8); ``utf-8-sig`` means a BOM."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        # tokenize says "invalid or missing encoding declaration" for bytes that are not UTF-8 in
        # a file that declares nothing (or UTF-8): that is invalid UTF-8, reported as such.
        cookie = _COOKIE.search(b"\n".join(raw.splitlines()[:2]))
        if cookie is None or cookie.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8"):
            return "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        raise SourceError(f"bad encoding declaration: {exc.msg}") from None
    return encoding


def reject_binary(raw: bytes) -> None:
    """A NUL byte never occurs in source text: the file is binary (or UTF-16), not mis-encoded."""
    at = raw.find(b"\0")
    if at >= 0:
        raise SourceError(f"binary file, not source text (NUL byte at offset {at})")


def _decode(raw: bytes) -> tuple[str, str]:
    reject_binary(raw)
    encoding = _encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        raise SourceError(
            f"invalid {name} (byte 0x{byte} at offset {exc.start}: {exc.reason})"
        ) from None
    except LookupError as exc:
        raise SourceError(f"bad encoding declaration: {exc}") from None
    return text.removeprefix("\ufeff"), encoding


def decode_source(raw: bytes) -> str:
    return _decode(raw)[0]


@dataclass(frozen=True)
class SourceInfo:
    """A file as read: its text, and what writing it back needs (``jaxlint --fix``).

    ``raw`` is the bytes read, so a writer can tell whether the file changed since; ``encoding`` is the
    codec that decoded them (``utf-8-sig`` when the file starts with a BOM, which encoding re-adds);
    ``newline`` is the file's first line ending (``"\\n"`` where it has none).
    """

    text: str
    raw: bytes
    encoding: str
    newline: str
    # A notebook's cells and JSON (``text`` is then its joined code); None for a Python file.
    notebook: NotebookSource | None = None

    @property
    def bom(self) -> bool:
        return self.encoding == "utf-8-sig"

    def encode(self, text: str) -> bytes:
        """``text`` in the file's own encoding (with its BOM); raises UnicodeEncodeError."""
        return text.encode(self.encoding)


def read_source_info(path: Path) -> SourceInfo:
    """Like ``read_source``, keeping the bytes, the encoding and the line ending."""
    from jaxlint.notebooks import NotebookError, is_notebook, parse_notebook

    raw = _read_bytes(path)
    if not is_notebook(path):
        return source_info(raw)
    reject_binary(raw)
    try:
        notebook = parse_notebook(raw)
    except NotebookError as exc:
        raise SourceError(str(exc)) from None
    return SourceInfo(notebook.text, raw, "utf-8", "\n", notebook)


def source_info(raw: bytes) -> SourceInfo:
    """Decode ``raw`` as ``decode_source`` does, keeping what writing it back needs."""
    text, encoding = _decode(raw)
    match = _NEWLINE.search(text)
    return SourceInfo(text, raw, encoding, match.group() if match else "\n")
