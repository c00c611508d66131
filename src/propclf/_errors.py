"""Named exceptions. Each message is one line that names the file and the problem."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PropclfError", "InputError", "FileMissing", "CorpusError", "ModelError", "ModelVersionWarning", "shown",
           "reraised_as"]


def shown(name: object) -> str:
    """A user-supplied name as it may appear in a one-line message: escaped if not printable."""
    text = str(name)
    return text if text.isprintable() else repr(text)


class PropclfError(Exception):
    """Base class of every error propclf raises on purpose."""


class InputError(PropclfError):
    """A file given to propclf cannot be read as text: missing, a directory, empty, undecodable."""


class FileMissing(InputError):
    """The file is not there (callers that expect a particular file say which)."""


class CorpusError(PropclfError):
    """The labeled corpus breaks a rule: missing column, unknown label, empty or duplicate text..."""


class ModelError(PropclfError):
    """A model file is missing, damaged, altered, or of a format this version cannot read."""


class ModelVersionWarning(UserWarning):
    """A model was trained with another version of scikit-learn than the one installed."""


@contextmanager
def reraised_as(kind: type[PropclfError]) -> Iterator[None]:
    """Inside this block an InputError becomes a ``kind`` with the same message: one wording, the caller's type."""
    try:
        yield
    except InputError as exc:
        raise kind(str(exc)) from None
