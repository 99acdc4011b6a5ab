"""convoscope's benchmarks: `python -m bench --events 10M` runs the suite (see bench/README.md).

Figures are for people and closing notes, never assertions; the test suite runs the whole
suite once at a tiny size so that it keeps working.
"""
