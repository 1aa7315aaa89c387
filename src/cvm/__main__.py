"""``python -m cvm`` runs the command line."""

from cvm.cli.main import run

run()
