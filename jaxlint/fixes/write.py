"""Write a fixed file back: atomically, in its own encoding and line endings, keeping its mode.

The new bytes go to a temporary file in the same directory, which then replaces the original with
``os.replace`` (atomic on POSIX and Windows), so a reader never sees half a file and a crash leaves
the original. A file whose bytes changed since it was read (an editor saved it meanwhile) is left
alone: writing would lose that change.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from jaxlint.source import SourceInfo


class WriteError(Exception):
    """Why a fixed file was not written; the message is one line."""


def encode_fixed(info: SourceInfo, text: str) -> bytes:
    """``text`` in the file's encoding and BOM; refuses where the original would not round-trip.

    A notebook gets its fixed cells put back into its JSON (``notebooks.render_notebook``)."""
    if info.notebook is not None:
        from jaxlint.notebooks import NotebookError, render_notebook

        try:
            return render_notebook(info.notebook, text)
        except NotebookError as exc:
            raise WriteError(str(exc)) from None
    try:
        if info.encode(info.text) != info.raw:
            raise WriteError(f"its {info.encoding} text does not round-trip byte for byte")
        return info.encode(text)
    except UnicodeEncodeError as exc:
        raise WriteError(
            f"the fix is not representable in {info.encoding} ({exc.reason})"
        ) from None


def write_fixed(path: Path, info: SourceInfo, text: str) -> None:
    """Replace ``path`` (read earlier as ``info``) with ``text``; raises WriteError."""
    data = encode_fixed(info, text)
    # Write through a symbolic link, not over it.
    target = Path(os.path.realpath(path))
    try:
        current = target.read_bytes()
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError as exc:
        raise WriteError(f"cannot read it again: {exc.strerror or exc}") from None
    if current != info.raw:
        raise WriteError("it changed on disk since it was read")
    # Replacing goes through the directory, so a read-only file would be overwritten even where
    # the user cannot write it, and root passes every access check: its mode bits decide.
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise WriteError(f"read-only file (mode {mode:04o}), left alone")
    fd, temp = _temp_file(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, mode)
        # Last look before the switch: the window for a lost update is this close.
        if target.read_bytes() != info.raw:
            raise WriteError("it changed on disk since it was read")
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _temp_file(target: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".jaxlint-fix", dir=target.parent)
    except OSError as exc:
        raise WriteError(f"cannot write in {target.parent}: {exc.strerror or exc}") from None


__all__ = ["WriteError", "encode_fixed", "write_fixed"]
