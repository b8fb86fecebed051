"""The installed version, from the package metadata (pyproject.toml is the one source)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """``papervault``'s version, or "0+unknown" when run from a tree that is not installed."""
    try:
        return version("papervault")
    except PackageNotFoundError:
        return "0+unknown"
