"""The names of propclf's output columns, in one place: the writers write them, the readers keep
carried-through table columns off them (``_inputs.carried_names``)."""

from __future__ import annotations

from ._labels import LABELS

__all__ = ["BASE_COLUMNS", "DOCUMENT_COLUMNS", "OWN_COLUMNS", "CARRIED_PREFIX"]

#: The columns of the CSV (and Parquet) output, in order; then DOCUMENT_COLUMNS when documents are among
#: the inputs, then the carried-through columns of table inputs.
BASE_COLUMNS = ("source", "row", "id", "sentence", "start", "end", "text", "label", *(f"p_{label}" for label in LABELS))
DOCUMENT_COLUMNS = ("page", "extracted")
#: Every name propclf's outputs use for their own columns (CSV, JSONL, HTML, Parquet).
OWN_COLUMNS = frozenset({*BASE_COLUMNS, *DOCUMENT_COLUMNS, "probabilities", "fragments", "explanation"})
#: Put in front of a carried column's name that is one of OWN_COLUMNS (or starts with it).
CARRIED_PREFIX = "input_"
