"""convoscope: conversation analytics for customer messaging."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata when first asked for: importlib's
    metadata costs 45 ms that every command would pay at start."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convoscope")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
