"""Disclosure control of survey tables."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: Smallest number of respondents a published locality-level survey cell may rest on.
MIN_CELL_DEFAULT = 10


def disclosed_count(n: int, min_n: int = MIN_CELL_DEFAULT) -> str:
    """A count as it may appear in prose or a figure: the number when it is at least
    ``min_n`` (or zero), otherwise "fewer than ``min_n``" (disclosure control)."""
    n = int(n)
    return f"{n:,}" if n == 0 or n >= min_n else f"fewer than {min_n}"


def suppress_small_cells(
    table: pd.DataFrame,
    count_column: str = "n",
    min_n: int = MIN_CELL_DEFAULT,
    value_columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Disclosure control for survey tables: blank the values of cells resting on fewer
    than ``min_n`` respondents and flag them in a ``suppressed`` column.

    ``count_column`` holds the unweighted number of respondents of each row. The count
    itself is kept (it discloses nothing about answers) unless it is below ``min_n``,
    in which case it is blanked too. Values are never rounded or moved elsewhere.
    """
    if count_column not in table.columns:
        raise KeyError(
            f"Disclosure control needs the respondent count column {count_column!r}; "
            f"the table has {list(table.columns)}."
        )
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n}.")
    out = table.copy()
    small = out[count_column] < min_n
    cols = (
        list(value_columns)
        if value_columns is not None
        else [c for c in out.columns if c != count_column and pd.api.types.is_numeric_dtype(out[c])]
    )
    for col in [*cols, count_column]:
        out[col] = out[col].astype("Float64") if pd.api.types.is_numeric_dtype(out[col]) else out[col]
        out.loc[small, col] = pd.NA
    out["suppressed"] = small.to_numpy()
    out.attrs["min_n"] = min_n
    return out


def assert_disclosure_safe(
    table: pd.DataFrame, count_column: str = "n", min_n: int = MIN_CELL_DEFAULT
) -> None:
    """Raise if any published row rests on fewer than ``min_n`` respondents."""
    counts = table[count_column]
    bad = counts.notna() & (counts < min_n)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} table rows rest on fewer than {min_n} respondents "
            f"(rows {list(table.index[bad])[:10]}); pass the table through suppress_small_cells()."
        )
