"""The inspection's random draw (抽查): at least 20 % of sites, stratified by region, reproducible."""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

MIN_FRACTION = 0.20  # [rule] 抽查比例不低于20% (seeds 000, 001)


class SampleError(ValueError):
    pass


def parse_fraction(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if not m:
        raise SampleError(f"--sample {text!r}: expected a share such as 25% or 0.25")
    value = float(m.group(1)) / (100 if m.group(2) or float(m.group(1)) > 1 else 1)
    if not MIN_FRACTION <= value <= 1:
        raise SampleError(
            f"--sample {text}: the inspection draws at least {MIN_FRACTION:.0%} of sites (抽查比例不低于20%), "
            "and at most all of them"
        )
    return value


def draw(idents: Iterable[str], stratum: Callable[[str], str], fraction: float, seed: int) -> list[str]:
    """``fraction`` of each stratum (rounded up, at least one), drawn with ``seed``; sorted."""
    strata: dict[str, list[str]] = defaultdict(list)
    for ident in sorted(idents):
        strata[stratum(ident)].append(ident)
    rng = random.Random(seed)
    out: list[str] = []
    for key in sorted(strata):
        members = strata[key]
        out += rng.sample(members, min(len(members), max(1, math.ceil(len(members) * fraction))))
    return sorted(out)
