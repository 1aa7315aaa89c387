"""The docs cannot drift from the code: generated pages match, every command is documented."""

from pathlib import Path

import pytest

from cvm.cli import docgen

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(docgen.PAGES))
def test_generated_page_is_up_to_date(page):
    on_disk = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert on_disk == docgen.PAGES[page](), (
        f"docs/{page} is out of date: run `make docs` (python -m cvm.cli.docgen docs)"
    )


def test_every_command_has_help_text_and_a_section():
    reference = docgen.cli_reference()
    for path, command in docgen._commands():
        assert f"## `{path}`" in reference
        assert (command.help or "").strip(), f"{path} has no help text"


def test_readme_names_the_two_commands_and_links_existing_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    for target in ("docs/data-model.md", "docs/cli.md", "docs/validation.md", "docs/summaries.md",
                   "docs/models.md", "docs/value.md", "docs/value-config.md",
                   "benchmarks/README.md", "DEVELOPERS.md"):
        assert f"({target})" in readme
        assert (ROOT / target).exists(), f"README links {target}, which does not exist"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "make test"
