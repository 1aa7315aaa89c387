"""The named sample datasets: what each holds, where its files are, how to load and export it.

Three datasets are bundled files (see ``data/ATTRIBUTION.md``); ``retail`` is generated on
demand by :func:`cvm.datasets.generate_retail`, so it costs nothing to ship and can be made
at any size.

>>> [info.name for info in list_datasets()]
['cdnow_master', 'cdnow_sample', 'donations', 'retail']
>>> dataset_info("cdnow_sample").rows["transactions"]
6919
>>> dataset_path("cdnow_sample").name
'cdnow_sample.csv.gz'
>>> load("cdnow_sample")["date"].min()
Timestamp('1997-01-01 00:00:00')
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from cvm.errors import ConfigError, InputFileError, OutputExistsError

__all__ = [
    "DatasetInfo",
    "FORMATS",
    "dataset_info",
    "dataset_path",
    "export",
    "list_datasets",
    "load",
    "write_tables",
]

FORMATS = ("csv", "parquet", "xlsx")


@dataclass(frozen=True)
class DatasetInfo:
    """What a sample dataset is, in English and Chinese, and what it contains."""

    name: str
    title: str
    title_zh: str
    description: str
    description_zh: str
    source: str
    """Where the data comes from and under which licence."""
    tables: tuple[str, ...]
    """The tables it provides; the first is the one :func:`load` returns by default."""
    rows: Mapping[str, int]
    """Rows per table (for ``retail``: at the default size and seed)."""
    customers: int
    generated: bool = False
    files: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Bundled file name per table (empty for generated datasets)."""


_LIFETIMES = "lifetimes 0.11.3 by Cameron Davidson-Pilon, MIT licence (see ATTRIBUTION.md)"

_DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="cdnow_master",
            title="CDNOW purchases, full cohort",
            title_zh="CDNOW 购买记录（完整群组）",
            description=(
                "Every purchase to 1998-06-30 by the 23,570 customers who first bought CDs at "
                "CDNOW in the first quarter of 1997: customer_id, date, quantity, amount (US$)."
            ),
            description_zh=(
                "1997 年第一季度在 CDNOW 首次购买唱片的 23,570 位客户截至 1998-06-30 的全部购买记录："
                "客户编号、日期、数量、金额（美元）。"
            ),
            source=f"Fader, Hardie & Lee (2005), via {_LIFETIMES}",
            tables=("transactions",),
            rows={"transactions": 69_659},
            customers=23_570,
            files={"transactions": "cdnow_master.csv.gz"},
        ),
        DatasetInfo(
            name="cdnow_sample",
            title="CDNOW purchases, 1/10 sample",
            title_zh="CDNOW 购买记录（1/10 样本）",
            description=(
                "The 1/10 sample of the CDNOW cohort used in the BTYD papers: 2,357 customers, "
                "6,919 purchases; master_customer_id links to cdnow_master."
            ),
            description_zh=(
                "BTYD 文献使用的 CDNOW 1/10 样本：2,357 位客户、6,919 条购买记录；"
                "master_customer_id 对应 cdnow_master 中的客户编号。"
            ),
            source=f"Fader, Hardie & Lee (2005), via {_LIFETIMES}",
            tables=("transactions",),
            rows={"transactions": 6_919},
            customers=2_357,
            files={"transactions": "cdnow_sample.csv.gz"},
        ),
        DatasetInfo(
            name="donations",
            title="Donations: repeat giving of the 1995 donor cohort",
            title_zh="捐赠：1995 年首次捐赠者的重复捐赠",
            description=(
                "11,104 first-time donors of 1995 grouped by repeat donations (frequency) and "
                "year of last donation (recency) over 6 yearly opportunities (periods); weights "
                "counts the donors in each group. Input for discrete-time models (BG/BB)."
            ),
            description_zh=(
                "1995 年 11,104 位首次捐赠者，按之后 6 年中的重复捐赠次数（frequency）和最后一次捐赠的"
                "年份（recency）分组；weights 为每组人数。用于离散时间模型（BG/BB）。"
            ),
            source=f"Fader, Hardie & Shang (2010), via {_LIFETIMES}",
            tables=("summary",),
            rows={"summary": 22},
            customers=11_104,
            files={"summary": "donations_bgbb.csv.gz"},
        ),
        DatasetInfo(
            name="retail",
            title="Retail business (generated)",
            title_zh="零售企业（模拟数据）",
            description=(
                "A seeded synthetic Chinese retailer, 2022-2024: customers with profiles, "
                "acquisition channels and costs; multi-line orders with categories, product "
                "costs and returns; marketing costs; referrals; surveys. Customers grow, stay "
                "stable, decline, churn or come back (customers.behaviour_pattern); each buys "
                "from a favourite category, its companion and one occasional category."
            ),
            description_zh=(
                "按随机种子生成的中国零售企业（2022-2024）：含画像、获客渠道与获客成本的客户；"
                "含品类、商品成本与退货的多行订单；营销成本；推荐关系；满意度调查。"
                "客户分为成长、稳定、衰退、流失与回流（customers.behaviour_pattern）；"
                "每位客户主要购买一个偏好品类、其搭配品类和一个偶购品类。"
            ),
            source="generated by cvm.datasets.generate_retail (seed 2024); no real customers",
            tables=("transactions", "customers", "marketing_costs", "referrals", "surveys"),
            rows={"transactions": 40_444, "customers": 2_000, "marketing_costs": 10_649,
                  "referrals": 292, "surveys": 889},
            customers=2_000,
            generated=True,
        ),
    )
}


def list_datasets() -> list[DatasetInfo]:
    """Every sample dataset, bundled ones first."""
    return list(_DATASETS.values())


def dataset_info(name: str) -> DatasetInfo:
    """The description of dataset ``name``; :class:`~cvm.errors.ConfigError` for an unknown one.

    >>> dataset_info("retail").tables[0]
    'transactions'
    """
    try:
        return _DATASETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset {name!r}", hint=f"use one of: {', '.join(_DATASETS)}"
        ) from None


def _table_of(info: DatasetInfo, table: str | None) -> str:
    if table is None:
        return info.tables[0]
    if table not in info.tables:
        raise ConfigError(
            f"dataset {info.name!r} has no table {table!r}",
            hint=f"its tables are: {', '.join(info.tables)}",
        )
    return table


def dataset_path(name: str, table: str | None = None) -> Path:
    """The bundled file of ``table`` (default: the dataset's main table) of dataset ``name``.

    >>> dataset_path("donations").name
    'donations_bgbb.csv.gz'
    """
    info = dataset_info(name)
    table = _table_of(info, table)
    if info.generated:
        raise ConfigError(
            f"dataset {name!r} is generated, not a bundled file",
            hint=f"write its files with cvm.datasets.export({name!r}, DIRECTORY) "
                 f"or `cvm datasets export {name} DIRECTORY`",
        )
    path = Path(str(resources.files("cvm.datasets") / "data" / info.files[table]))
    if not path.is_file():
        raise InputFileError(
            f"the bundled file {path} is missing", hint="reinstall CVM: pip install --force-reinstall cvm"
        )
    return path


@functools.lru_cache(maxsize=2)
def _retail(n_customers: int, seed: int):
    from cvm.datasets.generator import generate_retail

    return generate_retail(n_customers, seed=seed)


def _frames(name: str, tables: tuple[str, ...], n_customers: int | None,
            seed: int | None) -> dict[str, pd.DataFrame]:
    info = dataset_info(name)
    if info.generated:
        data = _retail(2000 if n_customers is None else int(n_customers),
                       2024 if seed is None else int(seed))
        return {t: data.tables[t].copy() for t in tables}
    if n_customers is not None or seed is not None:
        raise ConfigError(
            f"dataset {name!r} is bundled: it has no size or seed to choose",
            hint="drop the customers and seed options, or use the generated dataset 'retail'",
        )
    out = {}
    for t in tables:
        frame = pd.read_csv(dataset_path(name, t))
        if "date" in frame.columns:
            frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d").astype("datetime64[ns]")
        out[t] = frame
    return out


def load(name: str, table: str | None = None, *, n_customers: int | None = None,
         seed: int | None = None) -> pd.DataFrame:
    """One table of a dataset as a DataFrame, dates parsed (small data only).

    ``table`` defaults to the dataset's main table (``transactions``, or ``summary`` for
    ``donations``). ``n_customers`` and ``seed`` choose the size and seed of ``retail``.

    >>> load("donations")["weights"].sum()
    np.int64(11104)
    >>> load("retail", "customers", n_customers=30, seed=5).shape[0]
    30
    """
    info = dataset_info(name)
    table = _table_of(info, table)
    return _frames(name, (table,), n_customers, seed)[table]


def export(
    name: str,
    directory: str | os.PathLike,
    *,
    format: str = "csv",
    n_customers: int | None = None,
    seed: int | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write each table of dataset ``name`` as ``DIRECTORY/<table>.<format>``.

    CSV files are plain UTF-8 (not gzipped) with ISO dates; CDNOW becomes
    ``transactions.csv``. Existing files are left alone unless ``overwrite=True``.

    >>> import tempfile
    >>> [p.name for p in export("cdnow_sample", tempfile.mkdtemp())]
    ['transactions.csv']
    """
    info = dataset_info(name)
    _check_format(format)
    return write_tables(_frames(name, info.tables, n_customers, seed), directory,
                        format=format, overwrite=overwrite)


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}", hint=f"use one of: {', '.join(FORMATS)}")


def _to_arrow(frame: pd.DataFrame):
    """An Arrow table whose all-midnight timestamp columns are plain dates (ISO in CSV)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(frame.columns):
        values = frame[column]
        if pd.api.types.is_datetime64_dtype(values) and (values.dropna() == values.dropna().dt.normalize()).all():
            table = table.set_column(i, column, table.column(i).cast(pa.date32()))
    return table


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    directory: str | os.PathLike,
    *,
    format: str = "csv",
    overwrite: bool = False,
) -> list[Path]:
    """Write DataFrames as ``DIRECTORY/<name>.<format>``, all of them or none.

    Every file is first written into a staging folder inside ``directory`` and moved into
    place only when all were written. An existing target stops the export before anything
    is written, unless ``overwrite=True``.
    """
    from cvm.data.export import write_table

    _check_format(format)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputFileError(f"{directory} is a file, not a folder", hint="give a folder to export into")
    targets = {name: directory / f"{name}.{format}" for name in tables}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{len(existing)} file(s) already exist: {', '.join(str(p) for p in existing)}",
            hint="pass overwrite=True (CLI: --overwrite) or choose another folder",
        )
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cvm-export-", dir=directory))
    try:
        for name, frame in tables.items():
            write_table(_to_arrow(frame), staging / targets[name].name, sheet_name=name)
        for name, target in targets.items():
            os.replace(staging / target.name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return list(targets.values())
