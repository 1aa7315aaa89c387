"""The retail report inputs, built once per test session (see :mod:`tests.report.inputs`)."""

from __future__ import annotations

import pytest

from tests.report.inputs import RetailInputs, build_retail


@pytest.fixture(scope="session")
def retail() -> RetailInputs:
    return build_retail()


@pytest.fixture(scope="session")
def sample_analysis():
    """The bundled CDNOW sample analysed as ``cvm analyze`` does (transactions only)."""
    from cvm.datasets import dataset_path
    from cvm.service.analyze import analyze

    return analyze(dataset_path("cdnow_sample"), holdout="1997-09-30")


@pytest.fixture(scope="session")
def retail_analysis(tmp_path_factory):
    """A synthetic retailer analysed with every table: profiles, costs, referrals and surveys."""
    from cvm.datasets import generate_retail
    from cvm.service.analyze import analyze

    folder = tmp_path_factory.mktemp("retail")
    data = generate_retail(600, seed=8)
    paths = {}
    for name, frame in data.tables.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return analyze(paths["transactions"], customers=paths["customers"], marketing_costs=paths["marketing_costs"],
                   referrals=paths["referrals"], surveys=paths["surveys"], ingest_options={"as_of": "2030-01-01"})
