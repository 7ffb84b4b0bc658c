"""Editions of the 総務省 guideline, and the rules whose judgement depends on one (issue 17).

A topology may name the edition it follows (`guideline: 令和6年10月版`); reports show it and
the rules below, each with the edition that brought what it checks. A judgement that rests on
a later edition than the one followed is not granted: the α′ exception of LG-NO-INTERNET
(令和6年10月版) is judged as LG-NO-INTERNET under an earlier edition. Sources: domain.md §8
(the 令和2年12月 revision brought β and β′ and the national specified communications, W36, W1,
W50; the 令和6年10月 revision brought α′, W30, W37).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..findings import RuleId
from .ids import LG_NO_INTERNET, MN_SPECIFIED_COMM, MODEL_BETA_CONDITIONS

CATALOGUE_EDITION = "令和6年10月版"
"""The edition the catalogue is written against (the guideline document's edition)."""
ALPHA_PRIME_SINCE = "令和6年10月版"  # α′: LGWAN-tier cloud use through a local breakout
BETA_SINCE = "令和2年12月版"  # β and β′, and national specified communications into MN

_EDITION = re.compile(r"(平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月版")
_ERA_START = {"平成": 1989, "令和": 2019}


def edition_key(text: str) -> tuple[int, int] | None:
    """(Gregorian year, month) of an edition written as 令和6年10月版; None if not one."""
    match = _EDITION.fullmatch(text)
    if match is None:
        return None
    era, year, month = match.groups()
    number = 1 if year == "元" else int(year)
    if not 1 <= int(month) <= 12 or number < 1:
        return None
    return _ERA_START[era] + number - 1, int(month)


def at_least(followed: str | None, required: str) -> bool:
    """True when the edition followed (None: not declared, taken as the catalogue's) is the
    required one or later."""
    have = edition_key(followed or CATALOGUE_EDITION)
    need = edition_key(required)
    assert need is not None
    return have is not None and have >= need


@dataclass(frozen=True, slots=True)
class EditionDependency:
    """What of a rule came with which edition."""

    rule: RuleId
    since: str
    what_en: str
    what_ja: str
    judged: bool = False  # True: withheld under an earlier edition; False: noted only


DEPENDENCIES: tuple[EditionDependency, ...] = (
    EditionDependency(
        LG_NO_INTERNET,
        ALPHA_PRIME_SINCE,
        "the α′ exception (an lbo-gateway's allow-listed destinations)",
        "α′モデルの例外(ローカルブレイクアウト装置の許可先)",
        judged=True,
    ),
    EditionDependency(
        MODEL_BETA_CONDITIONS,
        BETA_SINCE,
        "the β and β′ models and their conditions",
        "β・β′モデルとその条件",
    ),
    EditionDependency(
        MN_SPECIFIED_COMM,
        BETA_SINCE,
        "national specified communications (eLTAX, ぴったりサービス) into the My Number tier",
        "マイナンバー利用事務系への国の特定通信(eLTAX・ぴったりサービス)",
    ),
)
