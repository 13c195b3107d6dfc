"""Where a service may read bundles from: only under one root directory."""

from __future__ import annotations

from pathlib import Path

from day2ai.errors import InputError


def resolve_under(root: Path | None, relative: str) -> Path:
    """The directory ``relative`` names under ``root``, resolved (symlinks followed) and checked to stay
    inside it; :class:`InputError` otherwise (absolute paths, ``..``, symlinks out, missing)."""
    if root is None:
        raise InputError("bundles are disabled: start the service with --bundle-root DIR")
    if not isinstance(relative, str) or not relative.strip() or "\x00" in relative:
        raise InputError("bundle: expected a path relative to the bundle root")
    base = root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base):
        raise InputError(f"bundle: {relative!r} is outside the bundle root")
    if not candidate.is_dir():
        raise InputError(f"bundle: {relative!r} is not a directory under the bundle root")
    return candidate
