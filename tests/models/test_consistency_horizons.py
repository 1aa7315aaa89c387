"""Expected purchases over many horizons at once agree with the closed forms horizon by horizon.

Pareto/NBD and MBG/NBD compute what depends only on the customer (P(alive) and, for
Pareto/NBD, ``(r+x)/(alpha+T)``) once, and the horizon terms once per distinct ``(s, beta+T)``
or ``(x, T)``. The reference here is the plain route: the module's ``expected_purchases`` once
per period end, differenced, and (for CLV) weighted by the discount factors. Both must agree to
rounding (relative 1e-12) on the CDNOW sample and master summaries and on awkward customers:
no repeat purchase, last purchase at T, a tiny T, huge frequencies.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from cvm.data.summaries import btyd_summary
from cvm.datasets import load
from cvm.models import bgnbd, mbgnbd, pareto_nbd
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.clv import discount_edges, discounted_expected_purchases
from cvm.models.mbgnbd import ModifiedBetaGeoModel
from cvm.models.pareto_nbd import ParetoNBDModel

TOLERANCE = 1e-12
MODULES = {"pnbd": pareto_nbd, "mbgnbd": mbgnbd, "bgnbd": bgnbd}
CLASSES = {"pnbd": ParetoNBDModel, "mbgnbd": ModifiedBetaGeoModel, "bgnbd": BetaGeoModel}
PARAMETER_NAMES = {"pnbd": ("r", "alpha", "s", "beta"), "mbgnbd": ("r", "alpha", "a", "b"), "bgnbd": ("r", "alpha", "a", "b")}
EDGES = np.array([0.5, 4.3, 8.7, 13.0, 26.0, 52.0, 104.0])
# (horizon, discount rate per unit, steps): three years by month at 10 % a year in weeks, a year
# at 1 % a week by week, 25 years by month at 0.2 % a week (the last one not on CDNOW
# master: its plain route takes 300 evaluations of P(alive))
CLV_SETTINGS = [(156.5, math.log1p(0.1) / 52.18, 36), (52.0, 0.01, None), (1304.5, 0.002, 300)]
LONG_HORIZON_MAX_CUSTOMERS = 5_000


def awkward_customers(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """No repeat purchase, last purchase at T, tiny T, huge frequencies, and ordinary rows."""
    rng = np.random.default_rng(seed)
    T = np.where(rng.random(n) < 0.15, rng.choice([1e-9, 1e-6, 1e-3], n), rng.uniform(0.01, 200.0, n))
    x = rng.poisson(rng.gamma(0.5, 4.0, n)).astype(float)
    huge = rng.random(n) < 0.1
    x[huge] = rng.choice([1e3, 1e5, 1e6, 1e8], huge.sum())
    x[rng.random(n) < 0.2] = 0.0
    recency = np.where(rng.random(n) < 0.3, T, T * rng.uniform(0.0, 1.0, n))
    recency = np.where(x > 0, recency, 0.0)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def cdnow_summary(name: str) -> pd.DataFrame:
    table = ibis.memtable(load(name))
    return btyd_summary(table, observation_end="1997-09-30", unit="week").to_pyarrow().to_pandas()


@pytest.fixture(scope="module", params=["cdnow_sample", "cdnow_master", "awkward"])
def customers(request) -> pd.DataFrame:
    if request.param == "awkward":
        return awkward_customers()
    return cdnow_summary(request.param)[["frequency", "recency", "T"]]


def reference_by_period(name: str, model, customers: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """The module's ``expected_purchases`` once per edge, with each customer's parameters, differenced."""
    data = {k: customers[k].to_numpy(dtype=float) for k in customers.columns}
    params = model.customer_params(model.params_, data)
    args = [np.broadcast_to(np.asarray(params[k], dtype=float), data["T"].shape) for k in PARAMETER_NAMES[name]]
    history = (data["frequency"], data["recency"], data["T"])
    cumulative = np.stack([MODULES[name].expected_purchases(*args, *history, e) for e in edges], axis=1)
    return np.diff(cumulative, axis=1, prepend=0.0)


def assert_same(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal to a relative 1e-12 (exactly where the reference is 0), with the same NaN."""
    assert got.shape == expected.shape
    assert np.all(np.isfinite(expected))
    zero = expected == 0
    np.testing.assert_array_equal(got[zero], 0.0)
    relative = np.abs(got[~zero] - expected[~zero]) / np.abs(expected[~zero])
    assert relative.size == 0 or float(relative.max()) < TOLERANCE, float(relative.max())


@pytest.mark.parametrize("name", ["pnbd", "mbgnbd", "bgnbd"])
def test_by_period_and_discounted_match_the_plain_route(name, customers):
    cls = CLASSES[name]
    model = cls.from_params(cls.example_params)
    expected = reference_by_period(name, model, customers, EDGES)
    assert_same(model.expected_purchases_by_period(customers, EDGES), expected)
    prepared = model.prepare_customers(customers)
    assert_same(model.expected_purchases_by_period(prepared, EDGES), expected)
    settings = CLV_SETTINGS if len(customers) <= LONG_HORIZON_MAX_CUSTOMERS else CLV_SETTINGS[:2]
    for horizon, rate, steps in settings:
        edges = discount_edges(horizon, steps)
        factors = np.exp(-math.log1p(rate) * (edges - np.diff(edges, prepend=0.0) / 2))
        reference = np.einsum("ij,j->i", reference_by_period(name, model, customers, edges), factors)
        got = discounted_expected_purchases(model, prepared, horizon=horizon, discount_rate=rate, steps=steps)
        assert_same(got, reference)


@pytest.mark.parametrize("name", ["pnbd", "mbgnbd"])
def test_probability_alive_of_prepared_customers_is_the_closed_form(name, customers):
    cls = CLASSES[name]
    model = cls.from_params(cls.example_params)
    data = [customers[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T")]
    expected = MODULES[name].probability_alive(*cls.example_params.values(), *data)
    prepared = model.prepare_customers(customers)
    first = model.probability_alive(prepared)
    np.testing.assert_array_equal(first, expected)
    first[:] = -1.0  # the caller's copy: the kept P(alive) is not touched
    np.testing.assert_array_equal(model.probability_alive(prepared), expected)
    later = MODULES[name].probability_alive_at(*cls.example_params.values(), *data, 13.0)
    np.testing.assert_array_equal(model.probability_alive(prepared, 13.0), later)


def test_pareto_nbd_with_covariates_matches_the_plain_route():
    """Each customer's own alpha and beta: the horizon terms are grouped by their own beta + T."""
    rng = np.random.default_rng(11)
    customers = awkward_customers(400, seed=12).assign(channel=rng.integers(0, 2, 400).astype(float),
                                                       age=rng.normal(0.0, 1.0, 400))
    params = dict(ParetoNBDModel.example_params, **{"purchase.channel": 0.4, "dropout.age": -0.3})
    model = ParetoNBDModel.from_params(params, purchase_covariates=["channel"], dropout_covariates=["age"])
    expected = reference_by_period("pnbd", model, customers, EDGES)
    assert_same(model.expected_purchases_by_period(customers, EDGES), expected)
    weights = np.linspace(1.0, 0.5, EDGES.size)
    assert_same(model.weighted_expected_purchases(customers, EDGES, weights), expected @ weights)


@pytest.mark.parametrize("name", ["pnbd", "mbgnbd"])
def test_weighted_expected_purchases_checks_its_weights(name):
    cls = CLASSES[name]
    model = cls.from_params(cls.example_params)
    with pytest.raises(ValueError, match="2 period weights for 3 periods"):
        model.weighted_expected_purchases(awkward_customers(10), [1.0, 2.0, 3.0], [1.0, 1.0])


def test_weighted_expectation_is_computed_in_bounded_blocks(monkeypatch):
    """Blocks of distinct customers (kept small to bound memory) give the same numbers as one block."""
    customers = awkward_customers(300, seed=2)
    edges, weights = discount_edges(52.0), np.linspace(1.0, 0.9, 52)
    for module, cls in ((pareto_nbd, ParetoNBDModel), (mbgnbd, ModifiedBetaGeoModel)):
        model = cls.from_params(cls.example_params)
        whole = model.weighted_expected_purchases(customers, edges, weights)
        by_period = model.expected_purchases_by_period(customers, edges)
        monkeypatch.setattr(module, "WEIGHTED_BLOCK", 100)  # two distinct rows × 52 periods a block
        np.testing.assert_array_equal(model.weighted_expected_purchases(customers, edges, weights), whole)
        np.testing.assert_array_equal(model.expected_purchases_by_period(customers, edges), by_period)
