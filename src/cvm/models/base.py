"""What every customer-base model shares: fitting through the one engine, summaries, JSON.

A model subclasses :class:`CustomerModel` and declares

* ``name`` – its registry key (``"bgnbd"``), used by ``to_dict``/``from_dict`` and the CLI;
* ``parameters`` – its :class:`~cvm.models.engine.Parameter` list, with the papers' symbols;
* ``data_columns`` and ``time_columns`` – the columns of the customer table it reads;
* ``log_likelihood(params, data)`` – the per-row log-likelihood, as a static method that
  calls the module-level closed form; optionally ``gradient(params, data)``;
* ``check_data(data)`` – the model's rules for its input.

Everything else (compression, optimisation, standard errors, intervals, the report,
``summary()``, JSON) is here, once. ``__init__`` stores settings only; ``fit`` returns the
model with ``params_``, ``covariance_``, ``log_likelihood_``, ``converged_`` and
``report_`` set, and never keeps the training table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.models.engine import (
    BOUNDARY_LOG,
    Estimate,
    FitReport,
    Parameter,
    confidence_intervals,
    estimate,
    flag_boundary,
)

MODELS: dict[str, type[CustomerModel]] = {}
"""Every registered model class by its ``name``."""

FORMAT_VERSION = 1
PREDICTION_CHUNK = 1_000_000
"""Predictions run over customers in chunks of this many rows, so memory stays flat."""


@dataclass(frozen=True)
class ParameterRow:
    """One line of a model summary."""

    name: str
    estimate: float
    standard_error: float
    lower_95: float
    upper_95: float
    at_boundary: bool


@dataclass(frozen=True)
class ModelSummary:
    """Estimates with standard errors and 95 % intervals, plus fit statistics."""

    model: str
    rows: tuple[ParameterRow, ...]
    log_likelihood: float
    aic: float
    bic: float
    n_customers: int
    converged: bool
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (one list entry per parameter)."""
        return {
            "model": self.model,
            "parameters": [row.__dict__.copy() for row in self.rows],
            "log_likelihood": self.log_likelihood,
            "aic": self.aic,
            "bic": self.bic,
            "n_customers": self.n_customers,
            "converged": self.converged,
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        lines = [
            f"{self.model}: {self.n_customers} customers, log-likelihood {self.log_likelihood:.4f}, "
            f"AIC {self.aic:.2f}, BIC {self.bic:.2f}, " + ("converged" if self.converged else "NOT converged"),
            f"{'parameter':<22}{'estimate':>14}{'std. error':>14}{'lower 95%':>14}{'upper 95%':>14}",
        ]
        for row in self.rows:
            flag = "  (boundary)" if row.at_boundary else ""
            lines.append(
                f"{row.name:<22}{row.estimate:>14.6g}{row.standard_error:>14.6g}"
                f"{row.lower_95:>14.6g}{row.upper_95:>14.6g}{flag}"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


class CustomerModel:
    """Base class of CVM's customer-base models (see the module docstring)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]] = ()
    time_columns: ClassVar[tuple[str, ...]] = ()
    gradient: ClassVar[Callable | None] = None
    prepare: ClassVar[Callable | None] = None
    """Optional fast path: ``prepare(data)`` precomputes the parameter-free pieces once per
    fit; ``prepared_log_likelihood(params, prepared)`` (and ``prepared_gradient``) then give
    the same values as ``log_likelihood`` (and ``gradient``) on ``data``."""
    prepared_log_likelihood: ClassVar[Callable | None] = None
    prepared_gradient: ClassVar[Callable | None] = None
    prepared_totals: ClassVar[Callable | None] = None
    """Optional: ``prepared_totals(params, prepared, weights)`` gives the weighted total
    log-likelihood and its gradient at once (summing per distinct value where it can)."""
    prepared_hessian: ClassVar[Callable | None] = None
    """Optional: ``prepared_hessian(params, prepared, weights)`` gives the matrix of second
    derivatives of the weighted total in the natural parameters, for the standard errors."""
    covariate_links: ClassVar[dict[str, dict[str, int]]] = {}
    """For models that take static covariates: per process (``purchase``, ``dropout``), the
    parameters a covariate vector ``z`` scales and the sign: ``theta_i = theta * exp(sign * g'z)``."""
    example_params: ClassVar[dict[str, float]] = {}
    """Typical parameter values (the published fit where there is one), for examples and tests."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            MODELS[cls.name] = cls

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        tol: float = 1e-10,
        max_restarts: int = 6,
        start: Mapping[str, float] | None = None,
        purchase_covariates: Sequence[str] = (),
        dropout_covariates: Sequence[str] = (),
    ) -> None:
        if not (penalizer >= 0 and math.isfinite(penalizer)):
            raise ConfigError(f"penalizer must be a finite number >= 0, got {penalizer!r}")
        self.purchase_covariates = tuple(purchase_covariates)
        self.dropout_covariates = tuple(dropout_covariates)
        for process, names in self.covariates.items():
            if process not in self.covariate_links:
                raise ConfigError(
                    f"{self.title or self.name} takes no {process} covariates",
                    hint="static covariates are supported by BG/NBD and Pareto/NBD",
                )
            clash = [n for n in names if n in self.data_columns]
            if clash or len(set(names)) != len(names):
                raise ConfigError(f"{process} covariates must be distinct extra columns, got {list(names)}")
        self.penalizer = float(penalizer)
        self.tol = float(tol)
        self.max_restarts = int(max_restarts)
        self.start = dict(start) if start else None

    # -- what a model supplies -------------------------------------------------------------
    @staticmethod
    def log_likelihood(params: Mapping[str, Any], data: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-row log-likelihood at natural-scale ``params``."""
        raise NotImplementedError

    def check_data(self, data: dict[str, np.ndarray]) -> None:
        """Raise :class:`~cvm.errors.InvalidDataError` when the rows break the model's rules."""

    @classmethod
    def simulate(cls, params: Mapping[str, float], n: int, seed: int | None = None) -> dict[str, np.ndarray]:
        """Draw ``n`` customers' data (the model's ``data_columns``) from the model at ``params``."""
        raise NotImplementedError

    @property
    def covariates(self) -> dict[str, tuple[str, ...]]:
        """The covariate columns of each process that has any."""
        found = {"purchase": self.purchase_covariates, "dropout": self.dropout_covariates}
        return {process: names for process, names in found.items() if names}

    def input_columns(self) -> list[str]:
        """Columns read from the customer table: the data columns, then any covariates."""
        extra = [n for names in self.covariates.values() for n in names]
        return list(self.data_columns) + list(dict.fromkeys(extra))

    def model_parameters(self) -> list[Parameter]:
        """The parameters of this instance: the model's, then one coefficient per covariate.

        A coefficient is named ``process.column``, for example ``purchase.channel_web``.
        """
        coefficients = [
            Parameter(f"{process}.{name}", positive=False, start=0.0)
            for process, names in self.covariates.items()
            for name in names
        ]
        return list(self.parameters) + coefficients

    def customer_params(self, params: Mapping[str, float], data: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """The model parameters of each customer: scaled by their covariates, else the plain values."""
        out: dict[str, Any] = {p.name: params[p.name] for p in self.parameters}
        for process, names in self.covariates.items():
            score = sum(params[f"{process}.{name}"] * data[name] for name in names)
            for target, sign in self.covariate_links[process].items():
                out[target] = params[target] * np.exp(sign * score)
        return out

    def _fit_functions(self) -> tuple[Callable, Callable | None, Callable | None, Callable | None]:
        """What the engine fits with: log-likelihood, gradient, and the fast path when there is one.

        The fast path (``prepare`` / ``prepared_*``) serves models without covariates; with
        covariates every customer has their own parameters and the per-row functions are used.
        """
        cls = type(self)
        if not self.covariates and cls_has_fast_path(cls):
            return cls.prepared_log_likelihood, cls.prepared_gradient, cls.prepare, cls.prepared_totals
        loglik, grad = self._likelihood_functions()
        return loglik, grad, None, None

    def _likelihood_functions(self) -> tuple[Callable, Callable | None]:
        """Log-likelihood and gradient in terms of the model's parameters and coefficients."""
        cls = type(self)
        if not self.covariates:
            return cls.log_likelihood, cls.gradient

        def loglik(params, data):
            return cls.log_likelihood(self.customer_params(params, data), data)

        if cls.gradient is None:
            return loglik, None

        def grad(params, data):
            per_customer = self.customer_params(params, data)
            g = cls.gradient(per_customer, data)
            out = {p.name: g[p.name] * per_customer[p.name] / params[p.name] for p in self.parameters}
            for process, names in self.covariates.items():
                chain = sum(sign * g[t] * per_customer[t] for t, sign in self.covariate_links[process].items())
                for name in names:
                    out[f"{process}.{name}"] = chain * data[name]
            return out

        return loglik, grad

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, customers: Any, weights: Sequence[float] | np.ndarray | None = None) -> CustomerModel:
        """Estimate the parameters by maximum likelihood; returns ``self``.

        ``customers`` is any table with the model's ``data_columns`` (a pandas or pyarrow
        table, or a dict of arrays). ``weights`` count how many customers each row stands
        for (for example a table already grouped by identical rows).
        """
        data = self.read_columns(customers)
        w = check_weights(weights, len(next(iter(data.values()))))
        self.check_data(data)
        return self._fit_checked(data, w)

    def _fit_checked(self, data: dict[str, np.ndarray], w: np.ndarray | None) -> CustomerModel:
        """:meth:`fit` on columns already read and checked (weights too)."""
        if w is not None:
            keep = w > 0
            data = {k: v[keep] for k, v in data.items()}
            w = w[keep]
        n = len(next(iter(data.values())))
        if n == 0:
            raise InvalidDataError(f"{self.title or self.name}: there are no customers to fit")
        loglik, grad, prepare, totals = self._fit_functions()
        est = estimate(
            loglik,
            self.model_parameters(),
            data,
            w,
            prepare=prepare,
            totals=totals,
            hessian=type(self).prepared_hessian if prepare is not None else None,
            gradient=grad,
            time_columns=self.time_columns,
            start=self.start or self.default_start(data),
            penalizer=self.penalizer,
            tol=self.tol,
            max_restarts=self.max_restarts,
        )
        flag_boundary(est.report, self.boundary_parameters(est.params) + self._coefficients_at_boundary(est.params, data))
        self._set_estimate(est, n_customers=float(n if w is None else w.sum()))
        return self

    def _coefficients_at_boundary(self, params: Mapping[str, float], data: Mapping[str, np.ndarray]) -> list[str]:
        """Covariate coefficients that scale some customer's parameter by more than ``exp(BOUNDARY_LOG)``.

        Such a coefficient has run off towards infinity (for example when one group of
        customers has no heterogeneity left in a process): the likelihood is flat along it and
        its value is not identified, like a positive parameter on a boundary.
        """
        flagged = []
        for process, names in self.covariates.items():
            for name in names:
                key = f"{process}.{name}"
                span = float(np.max(np.abs(data[name]))) if data[name].size else 0.0
                if abs(params[key]) * span >= BOUNDARY_LOG:
                    flagged.append(key)
        return flagged

    def boundary_parameters(self, params: Mapping[str, float]) -> list[str]:
        """Parameters the model itself recognises as on a boundary at the estimate ``params``.

        The engine flags a positive parameter only beyond ``exp(±BOUNDARY_LOG)``; a model can
        name boundaries it knows of sooner (BG/NBD: mean dropout probability near 0). They
        are added to ``report_.boundary`` with a ``BoundaryWarning``. Default: none.
        """
        return []

    def default_start(self, data: Mapping[str, np.ndarray]) -> dict[str, float] | None:
        """Starting values for the optimiser (default: each parameter's ``start``)."""
        return None

    def _set_estimate(self, est: Estimate, *, n_customers: float) -> None:
        self.params_ = est.params
        self.covariance_ = est.covariance
        self.unconstrained_covariance_ = est.unconstrained_covariance
        self.log_likelihood_ = est.log_likelihood
        self.report_ = est.report
        self.converged_ = est.report.converged
        self.n_customers_ = n_customers

    # -- results ---------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "params_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ConfigError(
                f"{self.title or self.name} is not fitted yet",
                hint="call fit(customers) first, or load a fitted model with from_dict",
            )

    @property
    def standard_errors_(self) -> dict[str, float]:
        self._check_fitted()
        diag = np.sqrt(np.clip(np.diag(self.covariance_), 0.0, None))
        return {name: float(v) for name, v in zip(self.params_, diag, strict=True)}

    @property
    def confidence_intervals_(self) -> dict[str, tuple[float, float]]:
        self._check_fitted()
        return confidence_intervals(self.model_parameters(), self.params_, self.unconstrained_covariance_)

    @property
    def aic_(self) -> float:
        self._check_fitted()
        return 2 * len(self.params_) - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        self._check_fitted()
        return len(self.params_) * math.log(max(self.n_customers_, 1.0)) - 2 * self.log_likelihood_

    def summary(self) -> ModelSummary:
        """Estimates, standard errors, 95 % intervals, log-likelihood, AIC and BIC."""
        self._check_fitted()
        se = self.standard_errors_
        ci = self.confidence_intervals_
        rows = tuple(
            ParameterRow(name, value, se[name], ci[name][0], ci[name][1], name in self.report_.boundary)
            for name, value in self.params_.items()
        )
        return ModelSummary(
            model=self.title or self.name,
            rows=rows,
            log_likelihood=self.log_likelihood_,
            aic=self.aic_,
            bic=self.bic_,
            n_customers=int(round(self.n_customers_)),
            converged=self.converged_,
            warnings=tuple(self.report_.warnings),
        )

    # -- JSON ------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready."""
        return {
            "penalizer": self.penalizer,
            "tol": self.tol,
            "max_restarts": self.max_restarts,
            "start": self.start,
            "purchase_covariates": list(self.purchase_covariates),
            "dropout_covariates": list(self.dropout_covariates),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the fitted model; :meth:`from_dict` restores it bit-exactly."""
        self._check_fitted()
        return {
            "model": self.name,
            "format_version": FORMAT_VERSION,
            "settings": self.settings(),
            "params": dict(self.params_),
            "covariance": _encode_matrix(self.covariance_),
            "unconstrained_covariance": _encode_matrix(self.unconstrained_covariance_),
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
            "report": self.report_.to_dict(),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerModel:
        """Rebuild a fitted model from :meth:`to_dict` output (any registered model)."""
        name = data.get("model")
        model_cls = MODELS.get(str(name)) if cls is CustomerModel else cls
        if model_cls is None or (cls is not CustomerModel and name != cls.name):
            raise ConfigError(f"not a saved {cls.name or 'CVM'} model: model = {name!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"unsupported model format version {data.get('format_version')!r}")
        model = model_cls(**data["settings"])
        model.params_ = {k: float(v) for k, v in data["params"].items()}
        model.covariance_ = _decode_matrix(data["covariance"])
        model.unconstrained_covariance_ = _decode_matrix(data["unconstrained_covariance"])
        model.log_likelihood_ = float(data["log_likelihood"])
        model.n_customers_ = float(data["n_customers"])
        model.report_ = FitReport.from_dict(data["report"])
        model.converged_ = model.report_.converged
        return model

    @classmethod
    def from_params(cls, params: Mapping[str, float], **settings: Any) -> CustomerModel:
        """A model with given parameter values (for example a published fit), ready to predict.

        It has no covariance (NaN) and no log-likelihood; its report says the parameters
        were given, not estimated.
        """
        if cls is CustomerModel:
            raise ConfigError("call from_params on a model class, for example BetaGeoModel.from_params(...)")
        model = cls(**settings)
        names = [p.name for p in model.model_parameters()]
        missing = [n for n in names if n not in params]
        if missing:
            raise ConfigError(f"{cls.title or cls.name}: missing parameter(s) {missing}")
        model.params_ = {n: float(params[n]) for n in names}
        k = len(names)
        model.covariance_ = np.full((k, k), np.nan)
        model.unconstrained_covariance_ = np.full((k, k), np.nan)
        model.log_likelihood_ = math.nan
        model.n_customers_ = 0.0
        model.report_ = FitReport(converged=True, method="given", message="parameters given, not estimated")
        model.converged_ = True
        return model

    @classmethod
    def from_json(cls, text: str) -> CustomerModel:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    # -- predictions shared by several calls ------------------------------------------------
    def prepare_customers(self, customers: Any) -> PreparedCustomers:
        """Read and check a customer table once, for several predictions of this model.

        Every prediction method accepts the result in place of the table and then skips
        reading and checking it again; what predictions share (P(alive), the customers'
        distinct frequency and T) is computed once and kept with it. A model fitted on the
        same columns (Gamma-Gamma beside BG/NBD, say) takes it too and reads the table it came
        from.

        >>> from cvm.models.bgnbd import BetaGeoModel
        >>> model = BetaGeoModel.from_params(BetaGeoModel.example_params)
        >>> batch = model.prepare_customers({"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86, 38.86]})
        >>> len(batch), model.expected_purchases(batch, 39).round(3).tolist()
        (2, [0.195, 1.226])
        """
        self._check_fitted()
        if isinstance(customers, PreparedCustomers):
            if customers.model is self:
                return customers
            customers = customers.source
        data = self.read_columns(customers)
        self.check_data({k: data[k] for k in self.data_columns})
        return PreparedCustomers(source=customers, model=self, data=data)

    def _prepared(self, customers: Any) -> PreparedCustomers:
        """``customers`` prepared for this model (fitted with these parameters), checked once."""
        if isinstance(customers, PreparedCustomers) and customers.model is self:
            if customers.params != self.params_:
                raise ConfigError(
                    f"{self.title or self.name}: the prepared customers were made before the model was refitted",
                    hint="call prepare_customers again after fit",
                )
            return customers
        return self.prepare_customers(customers)

    # -- helpers for subclasses ------------------------------------------------------------
    def read_columns(self, customers: Any, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """The named columns of ``customers`` as float arrays; a missing column is an error."""
        if isinstance(customers, PreparedCustomers):
            if customers.model is self:
                self._prepared(customers)  # refuses a batch made before a refit
            wanted = list(columns or self.input_columns())
            if all(c in customers.data for c in wanted):
                return {c: customers.data[c] for c in wanted}
            customers = customers.source
        return read_columns(customers, columns or self.input_columns(), model=self.title or self.name)

    def __repr__(self) -> str:
        if not self.is_fitted:
            return f"{type(self).__name__}(unfitted)"
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({inner})"


class PreparedCustomers:
    """A customer table read and checked for one fitted model (see :meth:`CustomerModel.prepare_customers`).

    ``data`` holds the columns the model reads as float arrays; ``cache`` what the model's
    predictions share, filled on first use. The model's parameters at preparation time are
    kept, so a refitted model refuses stale prepared customers instead of mixing the two.
    """

    def __init__(self, *, source: Any, model: CustomerModel, data: dict[str, np.ndarray]) -> None:
        self.source = source
        self.model = model
        self.params = dict(model.params_)
        self.data = data
        self.cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for, the kept value after."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def __repr__(self) -> str:
        return f"PreparedCustomers({len(self)} customers for {self.model!r})"


def cls_has_fast_path(cls: type[CustomerModel]) -> bool:
    """Whether a model class supplies the prepared (fast) likelihood path."""
    return cls.prepare is not None and cls.prepared_log_likelihood is not None


def read_columns(customers: Any, columns: Sequence[str], *, model: str = "model") -> dict[str, np.ndarray]:
    """Read ``columns`` from a table-like object as float arrays.

    >>> read_columns({"frequency": [0, 2]}, ["frequency"])["frequency"].tolist()
    [0.0, 2.0]
    """
    out: dict[str, np.ndarray] = {}
    for name in columns:
        try:
            column = customers[name]
        except (KeyError, IndexError, TypeError) as exc:
            available = list(getattr(customers, "columns", None) or getattr(customers, "keys", lambda: [])())
            raise MissingColumnError(
                f"{model}: the customer table has no column {name!r} (columns: {available})",
                hint="pass the BTYD summary from cvm.data.summaries.btyd_summary, or rename the column",
            ) from exc
        try:
            out[name] = np.asarray(column, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(f"{model}: column {name!r} is not numeric ({exc})") from exc
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise InvalidDataError(f"{model}: columns have different lengths {sorted(lengths)}")
    return out


def require(
    condition: np.ndarray, *, model: str, column: str, rule: str, values: np.ndarray, hint: str | None = None
) -> None:
    """Raise :class:`InvalidDataError` naming the rows where ``condition`` is False.

    >>> require(np.array([True, False]), model="BG/NBD", column="frequency", rule="must be >= 0",
    ...         values=np.array([1.0, -1.0]))
    Traceback (most recent call last):
    ...
    cvm.errors.InvalidDataError: BG/NBD: column 'frequency' must be >= 0: 1 row(s) break it, for example row 1 (value -1.0)
    """
    bad = np.flatnonzero(~np.asarray(condition, dtype=bool))
    if bad.size:
        examples = ", ".join(f"row {i} (value {float(values[i])!r})" for i in bad[:3])
        raise InvalidDataError(
            f"{model}: column {column!r} {rule}: {bad.size} row(s) break it, for example {examples}", hint=hint
        )


def check_frequency_recency_T(data: Mapping[str, np.ndarray], model: str) -> None:
    """The BTYD summary rules: integer frequency >= 0, 0 <= recency <= T, T >= 0, recency 0 when frequency 0.

    ``T`` = 0 is a customer whose first purchase is on the observation end: every model's
    likelihood and predictions are finite there (they equal those of a brand-new customer).
    """
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    for name, col in data.items():
        require(np.isfinite(col), model=model, column=name, rule="must be a finite number", values=col)
    require((x >= 0) & (x == np.floor(x)), model=model, column="frequency", rule="must be a whole number >= 0", values=x)
    require(T >= 0, model=model, column="T", rule="must be >= 0", values=T)
    require(
        (t_x >= 0) & (t_x <= T * (1 + 1e-12)), model=model, column="recency", rule="must lie between 0 and T", values=t_x
    )
    require((x > 0) | (t_x == 0), model=model, column="recency", rule="must be 0 when frequency is 0", values=t_x)


def chunked(function: Callable[..., np.ndarray], *arrays: np.ndarray, chunk: int = PREDICTION_CHUNK) -> np.ndarray:
    """Apply ``function`` to aligned slices of ``arrays`` and concatenate along the first axis."""
    n = len(arrays[0]) if arrays else 0
    if n <= chunk:
        return function(*arrays)
    return np.concatenate([function(*(a[i : i + chunk] for a in arrays)) for i in range(0, n, chunk)])


def check_weights(weights: Any, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != n:
        raise InvalidDataError(f"weights has {len(w)} values for {n} customers")
    require(np.isfinite(w) & (w >= 0), model="weights", column="weights", rule="must be finite and >= 0", values=w)
    return w


def _encode_matrix(matrix: np.ndarray) -> list[list[float | str]]:
    return [[float(v) if math.isfinite(v) else str(float(v)) for v in row] for row in np.asarray(matrix)]


def _decode_matrix(rows: list[list[float | str]]) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows], dtype=float).reshape(len(rows), -1)
