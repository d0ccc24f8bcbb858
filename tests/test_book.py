"""Page helpers of wholecomm.book that the notebooks share."""

from __future__ import annotations

import pandas as pd
import pytest

from wholecomm import book


def test_interval_long_puts_estimate_in_the_middle():
    t = pd.DataFrame({"g": ["a"], "est": [2.0], "lo": [1.0], "hi": [5.0]})
    long = book.interval_long(t, "est", "lo", "hi")
    assert sorted(long["value"]) == [1.0, 2.0, 5.0]
    assert long["value"].median() == 2.0
    with pytest.raises(ValueError, match="outside the interval"):
        book.interval_long(t.assign(est=6.0), "est", "lo", "hi")


# --------------------------------------------------- analyses on small data


def test_interval_long_scales_keeps_other_columns_and_refuses_a_missing_bound():
    t = pd.DataFrame({"group": ["a", "b"], "estimate": [0.2, 0.5], "lo": [0.1, 0.4], "hi": [0.3, 0.6]})
    long = book.interval_long(t, scale=100)
    assert sorted(long.loc[long["group"] == "b", "value"]) == pytest.approx([40.0, 50.0, 60.0])
    assert set(long["bound"]) == {"estimate", "lower", "upper"}
    with pytest.raises(ValueError, match=r"rows \[1\] are missing"):
        book.interval_long(t.assign(hi=[0.3, None]))
