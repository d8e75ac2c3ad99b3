"""Calculator input and limits for the public EMI calculator (page and JSON API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.services.deposits import calculators as inputs

from . import emi as emi_rules

MAX_LOAN_MONTHS = 480  # 40 years: the longest schedule the calculator draws


def parse_emi(raw: Mapping[str, str]) -> inputs.Parsed:
    """principal, annual_rate, months, start_date."""
    p = inputs.Parsed()
    p.take("principal", lambda t: inputs.parse_money(t, "loan amount"), raw)
    p.take("annual_rate", inputs.parse_rate, raw)
    p.take("months", lambda t: inputs.parse_count(t, 1, MAX_LOAN_MONTHS, "months"), raw)
    p.take("start_date", inputs.parse_start, raw)
    return p


def compute_emi(v: Mapping[str, Any]) -> emi_rules.Schedule:
    """The reducing-balance schedule for parsed EMI inputs."""
    return emi_rules.emi_schedule(v["principal"], v["annual_rate"], v["months"], v["start_date"])
