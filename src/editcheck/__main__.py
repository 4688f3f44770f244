"""``python -m editcheck`` runs the command-line interface."""

from editcheck.cli import run

run()
