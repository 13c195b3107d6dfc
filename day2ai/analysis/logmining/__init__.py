"""Streaming log-template mining: masking, a Drain-family miner, and evidence helpers."""

from day2ai.analysis.logmining.masking import MaskingConfig, MaskingRule
from day2ai.analysis.logmining.miner import Match, MinerConfig, TemplateInfo, TemplateMiner

__all__ = ["MaskingConfig", "MaskingRule", "Match", "MinerConfig", "TemplateInfo", "TemplateMiner"]
