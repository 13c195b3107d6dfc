"""Prompt templates: versioned Jinja2 files rendered strictly (a missing variable is an error).

Templates live in the repository's ``prompts/`` directory during development and are shipped as
``day2ai/_prompts`` inside the wheel (see ``[tool.hatch.build.targets.wheel.force-include]``).
Names carry their version (``investigate.v1.system``) so a changed prompt is a new file and
evaluation results can name the prompt they were produced with.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Any

import jinja2

from day2ai.errors import ConfigError

_SUFFIX = ".j2"
FENCE_OPEN = "[[[DATA"
FENCE_CLOSE = "[[[END DATA"


def prompt_dir() -> Path:
    """The installed ``day2ai/_prompts`` when present, else the repository's ``prompts/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_prompts", here.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"prompt templates not found (looked in {here / '_prompts'} and "
                      f"{here.parent / 'prompts'})")


@functools.cache
def _environment(directory: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts, not HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, /, **variables: Any) -> str:
    """Render the template ``<name>.j2`` (e.g. ``investigate.v1.system``) with ``variables``."""
    env = _environment(str(prompt_dir()))
    try:
        template = env.get_template(name + _SUFFIX)
        return template.render(**variables).strip()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"prompt template {name}{_SUFFIX} not found in {prompt_dir()}") from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"prompt template {name}{_SUFFIX}: {exc.message}") from exc


def available() -> list[str]:
    """Names of the available templates, without the ``.j2`` suffix."""
    return sorted(p.name[: -len(_SUFFIX)] for p in prompt_dir().glob("*" + _SUFFIX))


def new_boundary() -> str:
    """A random, unguessable marker for the data fences of one run (40 random bits: the text it
    fences was written before the run, so it cannot be guessed; short, as it is sent in every fence)."""
    return secrets.token_hex(5)


def fence(label: str, text: str, boundary: str) -> str:
    """Wrap untrusted ``text`` in a labelled data block that the system prompt declares inert.

    The boundary is random per run, so text inside cannot close the block; any occurrence of
    the boundary in ``text`` (it cannot be guessed, but a replayed transcript could carry it) is
    neutralised anyway. The markers use only characters that HTML escaping leaves alone (some
    servers, e.g. llama-cpp-python's, render prompts through an autoescaping template, which
    would turn ``<`` into ``&lt;``), so the fence the model sees is the one the system prompt names.
    """
    clean_label = " ".join(label.replace("]", " ").split())[:80]
    body = text.replace(boundary, "[boundary]")
    return f"{FENCE_OPEN} {boundary} {clean_label}]]]\n{body}\n{FENCE_CLOSE} {boundary}]]]"
