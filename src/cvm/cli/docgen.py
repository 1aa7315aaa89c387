"""Generate the reference pages in ``docs/`` from the code, so they cannot drift.

``docs/cli.md`` is the ``--help`` of every command; ``docs/data-model.md`` is
:mod:`cvm.data.schema`. Regenerate both with ``python -m cvm.cli.docgen``; a test fails
when the checked-in pages differ from what this module produces.

>>> "cvm summary" in cli_reference()
True
"""

from __future__ import annotations

import sys
from pathlib import Path

HELP_WIDTH = 100


def _commands() -> list[tuple[str, object]]:
    import typer

    from cvm.cli.main import app

    root = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(cmd: object, path: list[str]) -> None:
        found.append((" ".join(path), cmd))
        if hasattr(cmd, "list_commands"):
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])

    walk(root, ["cvm"])
    return found


def command_help(path: str) -> str:
    """The ``--help`` text of one command, at a fixed width, as the terminal shows it."""
    from typer.testing import CliRunner

    from cvm.cli.main import app

    args = path.split()[1:] + ["--help"]
    result = CliRunner().invoke(
        app, args, prog_name="cvm", terminal_width=HELP_WIDTH,
        env={"COLUMNS": str(HELP_WIDTH), "NO_COLOR": "1", "TERM": "dumb"},
    )
    if result.exit_code != 0:
        raise RuntimeError(f"`{path} --help` failed: {result.output}")
    return result.output.rstrip() + "\n"


def cli_reference() -> str:
    """Markdown for ``docs/cli.md``."""
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `python -m cvm.cli.docgen`; do not edit by hand.\n",
        "Exit codes: 0 success; 1 internal error; 2 wrong option, mapping or setting; "
        "3 the data broke validation rules; 4 a file is missing, unreadable or in the way; "
        "5 a database or engine is unavailable. `--debug` shows the traceback of any error.\n",
    ]
    for path, _ in _commands():
        parts.append(f"## `{path}`\n\n```text\n{command_help(path)}```\n")
    return "\n".join(parts)


def data_model_reference() -> str:
    """Markdown for ``docs/data-model.md``."""
    from cvm.data.schema import TABLES

    lines = [
        "# Data model / 数据模型",
        "",
        "Generated from `cvm.data.schema` by `python -m cvm.cli.docgen`; do not edit by hand.",
        "",
        "CVM reads up to five tables. Only `transactions` is needed for the summaries; the others",
        "feed margins, acquisition value, referrals and satisfaction. Map your own headers with a",
        "YAML file (`--mapping`) or `--column CVM_COLUMN=YOUR_HEADER`; common English and Chinese",
        "headers are detected automatically (the aliases below) and shown for you to confirm.",
        "",
        "CVM 最多读取五张表。汇总只需要 `transactions`（交易）表，其余表用于毛利、获客价值、推荐和满意度分析。",
        "可用 YAML 映射文件（`--mapping`）或 `--column CVM列名=你的列名` 指定列映射；常见的中英文表头会被自动识别（见下表别名），并显示出来供你确认。",
        "",
        "Types: `string` text; `date` a calendar date; `float64` a number; `int64` a whole number;",
        "`boolean` yes/no. 类型：`string` 文本；`date` 日期；`float64` 数值；`int64` 整数；`boolean` 是/否。",
        "",
        "A mapping file covers one or more tables:",
        "",
        "```yaml",
        "transactions:",
        "  customer_id: 客户编号",
        "  date: 下单时间",
        "  amount: 实付金额",
        "customers:",
        "  customer_id: 会员号",
        "```",
        "",
    ]
    for spec in TABLES.values():
        lines += [
            f"## `{spec.name}`: {spec.en} / {spec.zh}",
            "",
            spec.description_en,
            "",
            spec.description_zh,
            "",
            "| column | type | required | English | 中文 | meaning | 说明 | detected headers |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in spec.columns:
            aliases = ", ".join(f"`{a}`" for a in c.aliases[:8])
            if len(c.aliases) > 8:
                aliases += f" (+{len(c.aliases) - 8})"
            req = "yes / 是" if c.required else "no / 否"
            lines.append(
                f"| `{c.name}` | `{c.dtype}` | {req} | {c.en} | {c.zh} | {c.description_en} | "
                f"{c.description_zh} | {aliases} |"
            )
        if spec.custom_attributes:
            lines += ["", "Columns that map to none of these are kept as custom attributes. / "
                      "未映射的列作为自定义属性保留。"]
        for note in spec.notes:
            lines += ["", note]
        lines.append("")
    return "\n".join(lines)


def _module_page(module_name: str, title: str) -> str:
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    body = inspect.cleandoc(module.__doc__ or "")
    # drop doctest examples (prompt, continuation and expected output up to a blank line):
    # the page is for readers; the examples run in the test suite
    kept: list[str] = []
    in_example = False
    for line in body.splitlines():
        if line.startswith(">>>"):
            in_example = True
        elif in_example and not line.strip():
            in_example = False
        if not in_example:
            kept.append(line)
    text = _rst_to_markdown("\n".join(kept).strip())
    return (
        f"# {title}\n\nGenerated from the docstring of `{module_name}` by "
        f"`python -m cvm.cli.docgen`; do not edit by hand.\n\n{text}\n"
    )


def _rst_to_markdown(text: str) -> str:
    """Turn the bits of reStructuredText our docstrings use into Markdown.

    >>> _rst_to_markdown("see :class:`~cvm.errors.ConfigError` and ``x``")
    'see `ConfigError` and `x`'
    """
    import re

    text = re.sub(r":[a-z]+:`~?([\w.]+)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    # RST simple tables (rows of ===) become fenced blocks, which keep their alignment
    out: list[str] = []
    border = re.compile(r"^=+( +=+)+$")
    borders_seen = 0
    for line in text.splitlines():
        if border.match(line.strip()):
            borders_seen += 1
            if borders_seen % 3 == 1:
                out.append("```text")
            out.append(line)
            if borders_seen % 3 == 0:
                out.append("```")
            continue
        out.append(line)
    return "\n".join(out)


def validation_reference() -> str:
    """Markdown for ``docs/validation.md``."""
    return _module_page("cvm.data.validation", "Validation rules / 校验规则")


def summaries_reference() -> str:
    """Markdown for ``docs/summaries.md``."""
    page = _module_page("cvm.data.summaries", "Summaries / 汇总表")
    baskets = _module_body("cvm.data.baskets").replace("\n## ", "\n### ")
    return (page.rstrip() + "\n\n## Baskets and co-purchase statistics (`cvm.data.baskets`)\n\n"
            + baskets.rstrip() + "\n")


def _module_body(module_name: str) -> str:
    """A module docstring without its doctest examples, as Markdown, headings shifted down."""
    page = _module_page(module_name, "x")
    body = page.split("do not edit by hand.\n\n", 1)[1]
    return "\n".join(("#" + line if line.startswith("#") else line) for line in body.splitlines())


def models_reference() -> str:
    """Markdown for ``docs/models.md``: every registered model, the engine, validation and CLV."""
    import importlib
    import inspect

    from cvm.models import MODELS

    lines = [
        "# Models / 模型",
        "",
        "Generated from the code of `cvm.models` by `python -m cvm.cli.docgen`; do not edit by hand.",
        "",
        "| name | model | parameters | reads | covariates |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(MODELS):
        cls = MODELS[name]
        params = ", ".join(p.name for p in cls.parameters)
        columns = ", ".join(f"`{c}`" for c in cls.data_columns)
        covariates = ", ".join(sorted(cls.covariate_links)) or "—"
        lines.append(f"| `{name}` | {cls.title} | {params} | {columns} | {covariates} |")
    lines.append("")
    for name in sorted(MODELS):
        cls = MODELS[name]
        module = cls.__module__
        lines += [f"## {cls.title} (`{name}`, `{cls.__name__}`)", "", _module_body(module), ""]
        methods = [
            (attr, inspect.getdoc(getattr(cls, attr)) or "")
            for attr in sorted(vars(cls))
            if not attr.startswith("_") and callable(getattr(cls, attr)) and attr not in {
                "log_likelihood", "gradient", "check_data", "default_start", "prepare",
                "prepared_log_likelihood", "prepared_gradient", "simulate", "boundary_parameters",
            }
        ]
        if methods:
            lines += ["Predictions and other methods:", ""]
            for attr, doc in methods:
                first = _rst_to_markdown(doc.split("\n\n")[0].replace("\n", " ")) if doc else ""
                lines.append(f"- `{attr}`: {first}")
            lines.append("")
    for module_name, title in (
        ("cvm.models.engine", "The estimation engine"),
        ("cvm.models.base", "What every model shares"),
        ("cvm.models.validation", "Holdout validation and model choice"),
        ("cvm.models.clv", "Discounted purchases and CLV"),
    ):
        importlib.import_module(module_name)
        lines += [f"## {title} (`{module_name}`)", "", _module_body(module_name), ""]
    return "\n".join(lines).rstrip() + "\n"


def value_reference() -> str:
    """Markdown for ``docs/value.md``: the customer value table and how each part is computed."""
    from cvm.value.table import VALUE_COLUMNS

    lines = [
        "# Customer value / 客户价值",
        "",
        "Generated from the code of `cvm.value` by `python -m cvm.cli.docgen`; do not edit by hand.",
        "",
        _module_body("cvm.value.table").replace("\n#", "\n##"),
        "",
        "## Columns of the customer value table / 客户价值表字段",
        "",
        "| column | meaning | 说明 |",
        "|---|---|---|",
    ]
    lines += [f"| `{column}` | {meaning} | {chinese} |" for column, meaning, chinese in VALUE_COLUMNS]
    lines.append("")
    for module_name, title in (
        ("cvm.value.history", "Historical value"),
        ("cvm.value.forecast", "Forecast and CLV"),
        ("cvm.value.composition", "Composition, negative value, value at risk"),
        ("cvm.value.segments", "Segmentations"),
        ("cvm.value.scoring", "Scoring models"),
        ("cvm.value.lifecycle", "Lifecycle stages"),
        ("cvm.value.health", "Loyalty, satisfaction and base health"),
        ("cvm.value.perceived", "Perceived value against competitors"),
        ("cvm.value.crosssell", "Cross-sell suggestions"),
        ("cvm.value.playbook", "Strategy playbook and campaign lists"),
    ):
        lines += [f"## {title} (`{module_name}`)", "", _module_body(module_name), ""]
    return "\n".join(lines).rstrip() + "\n"


def value_config_reference() -> str:
    """Markdown for ``docs/value-config.md``: every setting with its default, and the default file."""
    from cvm.value.config import ValueConfig, default_config_yaml, settings_reference

    lines = [
        "# Value configuration / 价值配置",
        "",
        "Generated from `cvm.value.config` by `python -m cvm.cli.docgen`; do not edit by hand.",
        "",
        _module_body("cvm.value.config"),
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{key}` | `{default}` | {meaning} |" for key, default, meaning in settings_reference(ValueConfig)]
    lines += ["", "The whole default configuration, as a file:", "", "```yaml", default_config_yaml().rstrip(), "```"]
    return "\n".join(lines).rstrip() + "\n"


PAGES = {
    "cli.md": cli_reference,
    "data-model.md": data_model_reference,
    "validation.md": validation_reference,
    "summaries.md": summaries_reference,
    "models.md": models_reference,
    "value.md": value_reference,
    "value-config.md": value_config_reference,
}


def write_docs(docs_dir: Path) -> list[Path]:
    """Regenerate every generated page into ``docs_dir``."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PAGES.items():
        path = docs_dir / name
        path.write_text(make(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "docs"
    for p in write_docs(target):
        print(f"wrote {p}")
