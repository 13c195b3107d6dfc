"""Estimated cost of the tokens an investigation exchanged, from a configurable price table.

Prices are USD per million tokens, input and output. The built-in table is a convenience and
dates quickly: override it with ``DAY2AI_PRICES`` (a JSON or YAML file mapping model name ->
``{"input": ..., "output": ...}``) or pass a table to the investigator. A model is matched by
exact name, then by the longest table key it starts with (``gpt-4o-mini-2024-07-18`` ->
``gpt-4o-mini``); an unknown model costs 0 and the report says the price is unknown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from day2ai.errors import ConfigError

ENV_VAR = "DAY2AI_PRICES"


class Price(BaseModel):
    input: float = Field(ge=0.0, description="USD per million input tokens")
    output: float = Field(ge=0.0, description="USD per million output tokens")


# USD per 1M tokens, list prices as published by the providers (check before relying on them).
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "o4-mini": Price(input=1.10, output=4.40),
    "o3": Price(input=2.00, output=8.00),
}


class PriceTable:
    """Model name -> :class:`Price`; local models (Ollama, vLLM) are simply absent (cost 0)."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES if prices is None else prices)

    def lookup(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        matches = [k for k in self.prices if model.startswith(k)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        """USD for the tokens, or None when the model has no price."""
        price = self.lookup(model)
        if price is None:
            return None
        return (tokens_in * price.input + tokens_out * price.output) / 1_000_000

    @classmethod
    def from_file(cls, path: str | Path, *, merge_defaults: bool = True) -> PriceTable:
        """Load a JSON or YAML mapping ``model -> {input, output}`` (USD per 1M tokens)."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
            raw = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"{file}: cannot read price table: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{file}: a price table maps model names to {{input, output}}")
        prices = dict(DEFAULT_PRICES) if merge_defaults else {}
        for name, value in raw.items():
            try:
                prices[str(name)] = Price.model_validate(value)
            except ValidationError as exc:
                raise ConfigError(f"{file}: {name}: {exc.errors()[0]['msg']}") from exc
        return cls(prices)

    @classmethod
    def default(cls) -> PriceTable:
        """The built-in table, or the file named by ``DAY2AI_PRICES`` merged over it."""
        configured = os.environ.get(ENV_VAR)
        return cls.from_file(configured) if configured else cls()
