"""The package version, importable by every layer (``bayesmixed.__version__`` re-exports it)."""

__version__ = "0.1.0"
