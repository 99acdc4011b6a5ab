"""`python -m convoscope` runs the CLI."""

from convoscope.cli import app

app(prog_name="convoscope")
