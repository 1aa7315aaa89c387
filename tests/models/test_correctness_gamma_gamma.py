"""Gamma-Gamma reproduces the published CDNOW numbers (REFERENCES.md section 3)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest

from cvm.models import gamma_gamma
from cvm.models.gamma_gamma import GammaGammaModel

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "cdnow_sample_summary_monetary_lifetimes.csv.gz"


@pytest.fixture(scope="module")
def lifetimes_summary():
    """lifetimes' 2-decimal summary (ID, x, t_x, T, zbar), as its docs used it."""
    with gzip.open(GOLDEN, "rb") as handle:
        table = pacsv.read_csv(handle)
    return {"frequency": table["x"].to_numpy(), "monetary_value": table["zbar"].to_numpy()}


@pytest.fixture(scope="module")
def fitted(cdnow):
    return GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def fitted_lifetimes(lifetimes_summary):
    return GammaGammaModel().fit(lifetimes_summary)


def test_parameters_match_the_note(fitted):
    """Fader & Hardie (2013) note 025, via the lifetimes tests (decimal=2) and CLVTools tests: p, q, gamma = 6.25, 3.74, 15.44."""
    for name, value in dict(p=6.25, q=3.74, gamma=15.44).items():
        assert fitted.params_[name] == pytest.approx(value, abs=0.01)
    assert fitted.converged_ and fitted.report_.boundary == []
    assert fitted.n_customers_ == 946


def test_log_likelihood_matches_clvtools(fitted):
    """CLVTools tests (test_correctness_gg.R): LL = -4055.9177 on the 946 repeat customers."""
    assert fitted.log_likelihood_ == pytest.approx(-4055.9177, abs=0.01)


def test_conditional_spend_customers_1_to_10(fitted_lifetimes, lifetimes_summary):
    """lifetimes docs (Quickstart, more digits; lifetimes tests "Hardie spreadsheet notes/025" at atol 0.1), fitted on the rounded summary."""
    expected = [24.658619, 18.911489, 35.170981, 35.170981, 35.170981, 71.462843, 18.911489, 35.170981, 27.282408, 35.170981]
    summary = {k: v[:10] for k, v in lifetimes_summary.items()}
    np.testing.assert_allclose(fitted_lifetimes.expected_spend(summary), expected, atol=1e-4)


def test_conditional_spend_customers_1_to_10_unrounded(cdnow, fitted):
    """lifetimes tests ("Hardie spreadsheet notes/025", atol 0.1) on our unrounded summary (customer ids 1..10)."""
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    ids = cdnow["customer_id"].to_numpy()
    first = cdnow.iloc[np.flatnonzero(np.isin(ids, np.arange(1, 11)))]
    assert first["customer_id"].tolist() == list(range(1, 11))
    np.testing.assert_allclose(fitted.expected_spend(first), expected, atol=0.1)


def test_mean_spends(fitted_lifetimes, lifetimes_summary):
    """lifetimes docs: mean conditional E[M] over 2,357 = 35.2529588256; mean observed m_x over the 946 = 35.078551797."""
    spend = fitted_lifetimes.expected_spend(lifetimes_summary)
    assert spend.size == 2357
    assert float(spend.mean()) == pytest.approx(35.2529588256, abs=1e-4)
    observed = lifetimes_summary["monetary_value"][lifetimes_summary["frequency"] > 0]
    assert float(observed.mean()) == pytest.approx(35.078551797, abs=1e-8)


def test_customers_without_repeat_purchases_get_the_population_mean(fitted, cdnow):
    """x = 0 customers are dropped from the fit and predicted at p gamma / (q - 1)."""
    x = cdnow["frequency"].to_numpy()
    spend = fitted.expected_spend(cdnow)
    np.testing.assert_allclose(spend[x == 0], fitted.population_mean_spend(), rtol=1e-12)


def test_money_scale_gives_gamma_times_k(cdnow, fitted):
    """Amounts x 1000 (and x 1e6): gamma x k, the same p and q, no boundary, LL shifted by -n log k."""
    for k in (1e3, 1e6):
        data = {"frequency": cdnow["frequency"].to_numpy(), "monetary_value": cdnow["monetary_value"].to_numpy() * k}
        scaled = GammaGammaModel().fit(data)
        assert scaled.params_["p"] == pytest.approx(fitted.params_["p"], rel=1e-6)
        assert scaled.params_["q"] == pytest.approx(fitted.params_["q"], rel=1e-6)
        assert scaled.params_["gamma"] == pytest.approx(fitted.params_["gamma"] * k, rel=1e-6)
        assert scaled.report_.boundary == []
        assert scaled.log_likelihood_ == pytest.approx(fitted.log_likelihood_ - 946 * np.log(k), rel=1e-9)
        assert scaled.standard_errors_["gamma"] == pytest.approx(fitted.standard_errors_["gamma"] * k, rel=1e-4)


def test_likelihood_is_the_density_of_the_mean_and_gradient_is_exact():
    """The closed form equals the numerically integrated density of m_x; the gradient equals finite differences."""
    from scipy import integrate, stats

    p, q, g = 6.25, 3.74, 15.44
    for x, m in [(1, 10.0), (2, 22.35), (7, 80.0)]:
        density, _ = integrate.quad(
            lambda nu: stats.gamma.pdf(m, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, q, scale=1 / g), 0, np.inf
        )
        assert float(gamma_gamma.log_likelihood(p, q, g, x, m)) == pytest.approx(np.log(density), rel=1e-9)
    x = np.array([1.0, 2.0, 7.0])
    m = np.array([10.0, 22.35, 80.0])
    theta = np.array([p, q, g])
    analytic = gamma_gamma.log_likelihood_gradient(p, q, g, x, m)
    for i, name in enumerate(("p", "q", "gamma")):
        step = np.zeros(3)
        step[i] = 1e-6 * theta[i]
        numeric = (
            gamma_gamma.log_likelihood(*(theta + step), x, m) - gamma_gamma.log_likelihood(*(theta - step), x, m)
        ) / (2 * step[i])
        np.testing.assert_allclose(analytic[name], numeric, rtol=1e-6)


def test_simulation_round_trip():
    """A fit to a large simulated sample recovers the population mean spend."""
    data = GammaGammaModel.simulate(dict(p=6.0, q=4.0, gamma=15.0), 20_000, seed=11)
    model = GammaGammaModel().fit(data)
    assert model.population_mean_spend() == pytest.approx(30.0, rel=0.03)
    assert model.params_["q"] == pytest.approx(4.0, rel=0.1)

