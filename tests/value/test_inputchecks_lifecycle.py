"""Bad input to the lifecycle functions gives an error naming the column or the rule."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from cvm.errors import InvalidDataError, MissingColumnError
from cvm.value.lifecycle import lifecycle_stages, stage_distribution, transitions


def panel() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "a", "b"],
                         "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]),
                         "orders": [1, 0, 2], "revenue": [10.0, 0.0, 30.0]})


def test_the_panel_must_be_a_frame_or_an_arrow_table():
    with pytest.raises(InvalidDataError, match="pandas DataFrame or a pyarrow Table, not dict"):
        lifecycle_stages(panel().to_dict("list"))


@pytest.mark.parametrize("column", ["customer_id", "period_start", "orders", "revenue"])
def test_a_missing_column_is_named_for_both_inputs(column):
    frame = panel().drop(columns=column)
    for given in (frame, pa.Table.from_pandas(frame, preserve_index=False)):
        with pytest.raises(MissingColumnError, match=f"no column '{column}'"):
            lifecycle_stages(given)


def test_missing_ids_and_period_starts_are_named():
    with pytest.raises(InvalidDataError, match="'customer_id' has missing values"):
        lifecycle_stages(panel().assign(customer_id=["a", None, "b"]))
    with pytest.raises(InvalidDataError, match="'period_start' has missing values"):
        lifecycle_stages(panel().assign(period_start=pd.to_datetime(["2024-01-01", None, "2024-02-01"])))
    arrow = pa.Table.from_pandas(panel(), preserve_index=False)
    arrow = arrow.set_column(1, "period_start", pa.array([19723, None, None], type=pa.int32()).cast(pa.date32()))
    with pytest.raises(InvalidDataError, match="'period_start' has missing values"):
        lifecycle_stages(arrow)


def test_negative_orders_are_refused_from_arrow_too():
    arrow = pa.Table.from_pandas(panel().assign(orders=[1, -1, 2]), preserve_index=False)
    with pytest.raises(InvalidDataError, match="'orders' must be >= 0"):
        lifecycle_stages(arrow)


def test_transitions_and_distribution_name_a_missing_column():
    history = lifecycle_stages(panel()).history
    with pytest.raises(MissingColumnError, match="'stage'"):
        transitions(history.drop(columns="stage"))
    with pytest.raises(MissingColumnError, match="'period_start'"):
        stage_distribution(history.drop(columns="period_start"))
