"""The label scheme (see data/labeled/GUIDELINE.md)."""

from __future__ import annotations

__all__ = ["LABELS", "LABEL_NAMES", "UNCERTAIN"]

#: The three labels, in the order used for probability columns everywhere.
LABELS: tuple[str, ...] = ("slogan", "critique", "neutral")
#: The label given instead of a guess when the top probability is below ``min_confidence``.
UNCERTAIN = "uncertain"

LABEL_NAMES: dict[str, str] = {
    "slogan": "propaganda slogan",
    "critique": "critique",
    "neutral": "neutral narrative",
}
