"""The one base class of the errors raised on bad input.

Every function that checks what a user hands it (the data package, a table passed to an
analysis, a questionnaire) raises a subclass of :class:`InputError`, so a caller can catch
bad input in one place and tell it apart from a fault in the code. The message always names
the file or table, the column or field, the rows and the rule that was broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class InputError(ValueError):
    """Bad input: the message names the file or table, the column, the rows and the rule."""


def require_columns(frame: Any, columns: Iterable[str], what: str) -> None:
    """Raise :class:`InputError` naming ``what`` (the table) and the columns of ``columns``
    that ``frame`` lacks, with the columns it has; ``TypeError`` when it is not a DataFrame."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks the required column(s) {missing}; it has {list(frame.columns)}.")
