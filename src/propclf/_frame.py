"""pandas DataFrames in and out: tagging a frame's text column.

pandas is imported inside these functions only: predicting plain text needs NumPy alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._columns import BASE_COLUMNS
from ._errors import InputError, shown
from ._inputs import ReadOptions, TextUnit, carried_names
from ._labels import LABELS
from ._predict import ModelLike, _check_confidence, get_model
from ._tagging import tag_units

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FRAME_SOURCE", "tag_frame"]

#: The ``source`` of every row that ``tag_frame`` gives back.
FRAME_SOURCE = "<frame>"


def tag_frame(frame: pd.DataFrame, *, text_column: str = "text", rows: str = "document", id_column: str | None = None,
              model: ModelLike = None, min_confidence: float | None = None,
              warn: Callable[[str], None] | None = None, jobs: int | None = 1) -> pd.DataFrame:
    """Tag the text of each row of ``frame``: one row per sentence, with the columns of the CSV output.

    See ``propclf.tag_frame``.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"tag_frame() takes a pandas DataFrame, got {type(frame).__name__}")
    _check_confidence(min_confidence)
    options = ReadOptions(text_column=text_column, id_column=id_column, rows=rows)
    names = [str(column) for column in frame.columns]
    _check_columns(names, options)
    carried = carried_names(names, options)  # the input's name -> the output's
    positions = [names.index(name) for name in carried]
    units = _units(frame, names.index(text_column), None if id_column is None else names.index(id_column), options,
                   warn or (lambda _: None))
    records = list(tag_units(units, get_model(model), min_confidence=min_confidence, jobs=jobs))
    columns: dict[str, Any] = {
        "source": pd.Series([record.source for record in records], dtype=str),
        "row": pd.Series([record.row for record in records], dtype="int64"),
        "id": pd.Series([record.id for record in records], dtype=object),
        "sentence": pd.Series([record.sentence.index for record in records], dtype="int64"),
        "start": pd.Series([record.sentence.start for record in records], dtype="int64"),
        "end": pd.Series([record.sentence.end for record in records], dtype="int64"),
        "text": pd.Series([record.sentence.text for record in records], dtype=str),
        "label": pd.Series([record.sentence.label for record in records], dtype=str),
        **{f"p_{label}": pd.Series([record.sentence.probabilities[label] for record in records], dtype="float64")
           for label in LABELS},
    }
    assert tuple(columns) == BASE_COLUMNS
    taken = [record.row - 1 for record in records if record.row is not None]
    for position, name in zip(positions, carried.values()):
        # The input's own values, dtype and all (the CSV output can only hold them as text).
        columns[name] = frame.iloc[:, position].iloc[taken].reset_index(drop=True)
    return pd.DataFrame(columns)


def _check_columns(names: list[str], options: ReadOptions) -> None:
    seen: set[str] = set()
    for name in names:  # as a CSV header: a column named twice would be carried once, the other dropped unseen
        if name in seen:
            raise InputError(f"{FRAME_SOURCE}: column {name!r} appears twice; rename one")
        seen.add(name)
    if options.text_column not in seen:
        raise InputError(f"{FRAME_SOURCE}: no column {options.text_column!r} "
                         f"(columns: {', '.join(map(shown, names)) or 'none'}); choose one with text_column=")
    if options.id_column is not None and options.id_column not in seen:
        raise InputError(f"{FRAME_SOURCE}: no column {options.id_column!r} for id_column=")


def _units(frame: pd.DataFrame, text_at: int, id_at: int | None, options: ReadOptions,
           warn: Callable[[str], None]) -> list[TextUnit]:
    """One unit per row with text, as a table file's rows become units; ``row`` is the 1-based position."""
    units, empty = [], 0
    texts = frame.iloc[:, text_at].tolist()
    ids = frame.iloc[:, id_at].tolist() if id_at is not None else [None] * len(texts)
    for number, (text, identifier) in enumerate(zip(texts, ids), 1):
        if _missing(text):  # None, NaN, pd.NA: as an empty cell
            text = ""
        if not isinstance(text, str):
            raise InputError(f"{FRAME_SOURCE}, row {number}: {options.text_column!r} is not a string "
                             f"({type(text).__name__})")
        if not text.strip():
            empty += 1
            continue
        units.append(TextUnit(FRAME_SOURCE, [text], row=number, id=None if _missing(identifier) else str(identifier),
                              is_sentence=options.rows == "sentence"))
    if empty:
        warn(f"{FRAME_SOURCE}: {empty} row(s) with empty {options.text_column!r} skipped")
    return units


def _missing(value: object) -> bool:
    import pandas as pd

    return not isinstance(value, str) and bool(pd.api.types.is_scalar(value) and pd.isna(value))

