"""Sample data for CVM: bundled real datasets and a seeded generator of a retail business.

* ``cdnow_master``, ``cdnow_sample``: the CDNOW purchase logs of the BTYD literature;
* ``donations``: the 1995 donor cohort, as recency/frequency groups for BG/BB;
* ``retail``: a generated retailer with every CVM table (:func:`generate_retail`).

:func:`generate_transactions` makes large plain logs for benchmarks.

>>> from cvm import datasets
>>> [d.name for d in datasets.list_datasets()]
['cdnow_master', 'cdnow_sample', 'donations', 'retail']
>>> len(datasets.load("cdnow_master"))
69659
"""

from cvm.datasets.catalog import (
    FORMATS,
    DatasetInfo,
    dataset_info,
    dataset_path,
    export,
    list_datasets,
    load,
    write_tables,
)
from cvm.datasets.generator import (
    BEHAVIOUR_PATTERNS,
    COMPANION_CATEGORY,
    RetailData,
    generate_retail,
    generate_transactions,
    write_parquet_chunks,
    write_transactions_parquet,
)

__all__ = [
    "BEHAVIOUR_PATTERNS",
    "COMPANION_CATEGORY",
    "FORMATS",
    "DatasetInfo",
    "RetailData",
    "dataset_info",
    "dataset_path",
    "export",
    "generate_retail",
    "generate_transactions",
    "list_datasets",
    "load",
    "write_parquet_chunks",
    "write_tables",
    "write_transactions_parquet",
]
