"""convoscope: conversation analytics for customer messaging."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("convoscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
