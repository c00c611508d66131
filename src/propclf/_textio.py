"""Reading user files as text, with one-line errors, and writing files atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from ._binary import not_text
from ._errors import FileMissing, InputError

__all__ = ["open_binary", "read_blocks", "read_bytes", "read_text", "decode_text", "not_valid", "BLOCK_BYTES",
           "atomic_write_bytes", "atomic_write_text", "atomic_writer"]

#: Bytes read per call by ``read_blocks``.
BLOCK_BYTES = 1 << 20


def open_binary(path: str | os.PathLike[str], name: str | None = None) -> BinaryIO:
    """Open a file for reading bytes, or raise InputError saying what is wrong with it (naming ``name``,
    default ``path``)."""
    shown = path if name is None else name
    try:
        return Path(path).open("rb")
    except FileNotFoundError:
        raise FileMissing(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None


def read_blocks(file: str | os.PathLike[str] | BinaryIO, name: str | None = None, *, start: int = 0,
                end: int | None = None) -> Iterator[bytes]:
    """The bytes of a file, or of its range [start, end), in blocks of at most BLOCK_BYTES.

    ``file`` is a path, or a handle already open (standard input: it is not closed here). Every
    failure to open or read is an InputError naming ``name`` (default: the path).
    """
    shown = name if name is not None else str(file)
    handle = file if hasattr(file, "read") else open_binary(file, name)  # type: ignore[arg-type]
    try:
        if start:
            handle.seek(start)
        position = start
        while end is None or position < end:
            try:
                block = handle.read(BLOCK_BYTES if end is None else min(BLOCK_BYTES, end - position))
            except IsADirectoryError:
                raise InputError(f"{shown}: is a directory, not a file") from None
            except OSError as exc:
                raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
            if not block:
                return
            position += len(block)
            yield block
    finally:
        if handle is not file:
            handle.close()


def read_bytes(path: str | os.PathLike[str], name: str | None = None) -> bytes:
    """A whole file's bytes (see ``read_blocks``)."""
    return b"".join(read_blocks(path, name))


def not_valid(name: str, encoding: str, exc: UnicodeDecodeError, offset: int, advice: str = "") -> InputError:
    """The one wording for bytes that do not decode: the first bad byte and its ``offset`` in the file.

    ``advice`` is what the caller can offer (the tagging commands: ``--encoding``, ``--errors replace``).
    """
    return InputError(f"{name}: not valid {encoding} (byte 0x{exc.object[exc.start]:02x} at offset {offset}){advice}")


def read_text(path: str | os.PathLike[str], name: str | None = None, *, keep_bom: bool = False,
              empty_ok: bool = False) -> str:
    """Read a UTF-8 file or raise InputError naming the file (see ``decode_text``)."""
    return decode_text(read_bytes(path, name), str(path) if name is None else name, keep_bom=keep_bom,
                       empty_ok=empty_ok)


def decode_text(data: bytes, name: str, *, keep_bom: bool = False, empty_ok: bool = False) -> str:
    """Decode bytes as UTF-8; a leading BOM is dropped unless ``keep_bom`` (where offsets count it).

    Undecodable bytes, and a binary file, raise InputError; so does empty or blank text, unless ``empty_ok``.
    """
    try:
        text = data.decode("utf-8" if keep_bom else "utf-8-sig")
    except UnicodeDecodeError as exc:
        if (binary := not_text(name, data[:16])) is not None:
            raise binary from None
        raise not_valid(name, "UTF-8", exc, exc.start) from None
    if not empty_ok and not text.strip():
        raise InputError(f"{name}: file is empty")
    return text


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes atomically (see atomic_writer)."""
    with atomic_writer(path, binary=True) as handle:
        handle.write(data)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Atomically write UTF-8 text (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: The header that makes a CSV file labeled data (see _corpus.COLUMNS).
_LABELS_HEADER = b"id,text,label,source,start,end,group"


def backup_labels(path: Path) -> Path | None:
    """Before labeled data is replaced, copy it to ``NAME.YYYYmmddTHHMMSS.bak`` beside it.

    No command means to overwrite a labels file, but an ``--output`` can point at one by mistake;
    the labels are then still there. Returns the backup's path, or None for any other file.
    """
    import shutil
    import time

    try:
        with path.open("rb") as handle:
            header = handle.readline(len(_LABELS_HEADER) + 3).removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return None
    if not header.startswith(_LABELS_HEADER):
        return None
    backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}.bak")
    counter = 1
    while backup.exists():
        backup, counter = path.with_name(f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}-{counter}.bak"), counter + 1
    shutil.copy2(path, backup)
    return backup


@contextmanager
def atomic_writer(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[Any]:
    """Stream into a temporary file beside ``path``, fsync, and rename it into place only on success.

    A crash at any moment leaves either the old file or the new one, never half of one; if the block
    raises, ``path`` keeps its old content and the temporary file is removed (after a kill, a hidden
    ``.NAME.*.tmp`` may remain; it is never ``path``). A labeled-data file is backed up first.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; --output needs a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        blocker = next((parent for parent in path.parents if parent.exists()), None)
        reason = f"{blocker} is a file, not a folder" if blocker and not blocker.is_dir() else exc.strerror or exc
        raise InputError(f"{path}: cannot write here ({reason})") from None
    try:
        # mkstemp makes private (0600) files; give the result the mode a plain open() would.
        os.chmod(tmp, _mode_for(path))
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        backup_labels(path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
