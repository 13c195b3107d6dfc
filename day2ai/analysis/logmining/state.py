"""Saving and loading miner state as plain JSON (never pickle: state files may be untrusted)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from day2ai.errors import InputError

STATE_VERSION = 1


class TemplateState(BaseModel):
    """One saved template."""

    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1)
    tokens: list[str]
    open: list[bool]
    runs: list[str | None] | None = Field(
        default=None, description="Text of each variable-run slot (None: varies); absent in old files."
    )
    count: int = Field(ge=0)
    first_line: int = Field(ge=0)
    last_line: int = Field(ge=0)

    @model_validator(mode="after")
    def _same_length(self) -> TemplateState:
        if len(self.tokens) != len(self.open):
            raise ValueError("tokens and open must have the same length")
        if self.runs is not None and len(self.runs) != len(self.tokens):
            raise ValueError("tokens and runs must have the same length")
        return self


class MinerState(BaseModel):
    """Everything needed to resume mining: config, templates, id counter, merged-id aliases."""

    model_config = ConfigDict(extra="forbid")

    version: int = STATE_VERSION
    config: dict[str, object]
    next_id: int = Field(ge=1)
    lines: int = Field(ge=0)
    templates: list[TemplateState]
    aliases: dict[str, str] = Field(default_factory=dict)
    vocabularies: list[list[str]] = Field(
        default_factory=list, description="Words merged as values of one variable (absent in old files)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> MinerState:
        if self.version != STATE_VERSION:
            raise ValueError(f"unsupported state version {self.version} (expected {STATE_VERSION})")
        numbers = [t.number for t in self.templates]
        if len(set(numbers)) != len(numbers):
            raise ValueError("duplicate template numbers")
        if numbers and max(numbers) >= self.next_id:
            raise ValueError("next_id must exceed every template number")
        return self


def parse_state(text: str | bytes) -> MinerState:
    """Validate a JSON state document; raise :class:`InputError` with the reason if it is bad."""
    try:
        return MinerState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise InputError(f"invalid miner state: {where}: {first['msg']}") from exc
