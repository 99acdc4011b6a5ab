"""`python -m convoscope` runs the CLI."""

from convoscope.cli import run

run()
