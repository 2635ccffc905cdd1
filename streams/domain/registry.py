"""Who a post comes from, and how much that source's word weighs.

Why a file and not code: desks know their outlets (which broadcaster re-airs
which wire, which accounts belong to one organisation, who is a party to a
conflict) far better than any default, and they edit it without a release.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streams.domain.actors import Actors, Party
from streams.errors import RegistryError

__all__ = ["ATTRIBUTION_CUE", "KINDS", "SourceInfo", "SourceRegistry", "domain_of", "load_registry"]

KINDS = ("wire", "broadcaster", "newspaper", "journalist", "official", "party", "anonymous")


def domain_of(url_or_domain: str | None) -> str | None:
    """``https://www.news18.com/x`` -> ``news18.com``; bare domains pass through."""
    if not url_or_domain:
        return None
    value = url_or_domain.strip().lower()
    host = urlsplit(value).hostname if "://" in value else value.split("/")[0]
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A resolved source. ``id`` is stable; unknown accounts get ``acct:<handle>``."""

    id: str
    kind: str
    weight: float
    known: bool
    party: str | None = None
    name: str = ""


class SourceRegistry:
    def __init__(
        self,
        sources: Iterable[Mapping[str, Any]],
        *,
        kind_weights: Mapping[str, float],
        unknown_weight: float,
        verified_bonus: float,
        followers_bonus: float = 0.15,
        new_account_days: float = 30.0,
        new_account_factor: float = 0.5,
        unknown_cap: float = 0.6,
    ) -> None:
        self._kind_weights = dict(kind_weights)
        self.unknown_weight = unknown_weight
        self.verified_bonus = verified_bonus
        self.followers_bonus = followers_bonus
        self.new_account_days = new_account_days
        self.new_account_factor = new_account_factor
        self.unknown_cap = unknown_cap
        self._by_handle: dict[str, SourceInfo] = {}
        self._by_domain: dict[str, SourceInfo] = {}
        self._by_id: dict[str, SourceInfo] = {}
        alias_list: list[tuple[str, SourceInfo]] = []
        sides: dict[str, Party] = {}
        for raw in sources:
            info = self._parse(raw)
            if info.party:
                side = str(raw.get("side", info.id))
                words = (
                    *(str(w) for w in raw.get("aliases", [])),
                    *(str(w) for w in raw.get("actor_words", [])),
                )
                prior = sides.get(side)
                sides[side] = Party(side, info.party, (*(prior.words if prior else ()), *words))
            self._by_id[info.id] = info
            for handle in raw.get("handles", []):
                self._by_handle[str(handle).lower().lstrip("@")] = info
            for domain in raw.get("domains", []):
                self._by_domain[str(domain).lower()] = info
            for alias in raw.get("aliases", []):
                alias_list.append((str(alias).lower(), info))
        alias_list.sort(key=lambda pair: -len(pair[0]))
        self._alias_map = dict(alias_list)
        self._attribution_re = _attribution_pattern([a for a, _ in alias_list])
        self.actors = Actors.of(sides.values())
        """The sides of the conflicts the registry's parties are in (``streams.domain.actors``)."""

    def _parse(self, raw: Mapping[str, Any]) -> SourceInfo:
        sid = raw.get("id")
        kind = raw.get("kind")
        if not isinstance(sid, str) or not sid:
            raise RegistryError(f"a [[source]] entry has no id: {dict(raw)!r}")
        if kind not in KINDS:
            raise RegistryError(f"source {sid!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
        weight = float(raw.get("weight", self._kind_weights.get(kind, self.unknown_weight)))
        if not 0.0 <= weight <= 1.0:
            raise RegistryError(f"source {sid!r}: weight {weight} is outside 0..1")
        party = raw.get("party")
        return SourceInfo(sid, kind, weight, True, str(party) if party else None, str(raw.get("name", sid)))

    def get(self, source_id: str) -> SourceInfo | None:
        return self._by_id.get(source_id)

    def resolve(
        self,
        *,
        author: str,
        outlet: str | None,
        url: str | None,
        verified: bool | None,
        followers: int | None = None,
        account_age_days: float | None = None,
    ) -> SourceInfo:
        """The source of a post: by handle, then outlet domain, then the unknown default.

        A known source weighs what the registry says. An unknown account starts
        at ``unknown_weight``; the platform's signals move it: verified adds
        ``verified_bonus``, followers add up to ``followers_bonus`` (log scale,
        full at a million), an account younger than ``new_account_days`` is
        multiplied by ``new_account_factor`` (throwaway accounts), and no
        unknown account weighs more than ``unknown_cap``.
        """
        handle = author.lower().lstrip("@")
        info = self._by_handle.get(handle)
        if info is None:
            for candidate in (domain_of(outlet), domain_of(url)):
                if candidate and (info := self.by_domain(candidate)) is not None:
                    break
        if info is not None:
            return info
        weight = self.unknown_weight + (self.verified_bonus if verified else 0.0)
        if followers is not None and followers > 0:
            weight += self.followers_bonus * min(1.0, math.log10(1 + followers) / 6.0)
        if account_age_days is not None and account_age_days < self.new_account_days:
            weight *= self.new_account_factor
        weight = max(0.0, min(weight, self.unknown_cap, 1.0))
        return SourceInfo(f"acct:{handle or 'anonymous'}", "anonymous", round(weight, 4), False)

    def by_domain(self, domain: str) -> SourceInfo | None:
        """The source of ``domain`` or of the nearest parent domain registered.

        Outlets publish under many hosts ("edition.cnn.com", "feeds.bbci.co.uk",
        "news.sky.com"); a registry lists the domain each belongs to.
        """
        labels = domain.lower().split(".")
        for start in range(max(1, len(labels) - 1)):
            info = self._by_domain.get(".".join(labels[start:]))
            if info is not None:
                return info
        return None

    def cited_in(self, text: str) -> list[tuple[SourceInfo, bool]]:
        """Known sources that ``text`` attributes something to, with whether as a *claim*.

        Only a name next to an attribution phrase counts ("according to
        CNN-News18", "Taliban say", "sources told Reuters"): "air support to the
        Taliban" names the Taliban without quoting them. The flag is true for
        "X claims": in a denial that source is the target, not the speaker.
        """
        if self._attribution_re is None:
            return []
        found: dict[str, tuple[SourceInfo, bool]] = {}
        for match in self._attribution_re.finditer(text.lower()):
            alias = match.group("before") or match.group("after")
            info = self._alias_map[alias]
            as_claim = bool(match.group("after")) and bool(_CLAIM_CUE.search(match.group(0)))
            prior = found.get(info.id)
            found[info.id] = (info, as_claim and (prior is None or prior[1]))
        return list(found.values())


_CLAIM_CUE = re.compile(r"\bclaim(?:s|ed)?\b")
_CUE_BEFORE = (
    r"according to|citing|cited by|via|quoting|quoted by|reported by|a report by|report by|"
    r"sources (?:told|tell|tells|say|said) ?|told|tells|(?:a|an|the) report (?:by|from|on|in)|"
    r"in an interview with|speaking to"
)
_CUE_AFTER = (
    r"say|says|said|claim|claims|claimed|reported|reports|report|quoted|quoting|told|"
    r"announced|stated|confirmed|confirms|insisted|insists|denies|denied|spokesman|spokesperson"
)


#: Any cue of attribution, whoever it names: a text without one cites no source, and the
#: per-name patterns need not run (``streams.domain.provenance``).
ATTRIBUTION_CUE = re.compile(rf"\b(?:{_CUE_BEFORE})|\b(?:{_CUE_AFTER})\b", re.IGNORECASE)


def _attribution_pattern(aliases: list[str]) -> re.Pattern[str] | None:
    if not aliases:
        return None
    names = "|".join(re.escape(a) for a in aliases)
    article = r"(?:(?:a|an|the)\s+)?"
    return re.compile(
        rf"(?:\b(?:{_CUE_BEFORE})\s+{article}(?P<before>{names})(?![\w-]))"
        rf"|(?:(?<![\w-])(?P<after>{names})(?:'s)?\s+(?:\w+\s+)?(?:{_CUE_AFTER})\b)"
    )


def _from_toml(data: Mapping[str, Any], origin: str) -> SourceRegistry:
    defaults = data.get("defaults", {})
    kinds = data.get("kinds", {})
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise RegistryError(f"{origin}: [kinds] has unknown kinds {unknown}")
    return SourceRegistry(
        data.get("source", []),
        kind_weights={k: float(v) for k, v in kinds.items()},
        unknown_weight=float(defaults.get("unknown_weight", 0.3)),
        verified_bonus=float(defaults.get("verified_bonus", 0.15)),
        followers_bonus=float(defaults.get("followers_bonus", 0.15)),
        new_account_days=float(defaults.get("new_account_days", 30.0)),
        new_account_factor=float(defaults.get("new_account_factor", 0.5)),
        unknown_cap=float(defaults.get("unknown_cap", 0.6)),
    )


@lru_cache(maxsize=4)
def load_registry(path: str | None = None) -> SourceRegistry:
    """The registry file at ``path``, or the bundled one."""
    try:
        if path:
            text, origin = Path(path).read_text("utf-8"), path
        else:
            text = resources.files("streams.domain").joinpath("sources.toml").read_text("utf-8")
            origin = "bundled sources.toml"
        return _from_toml(tomllib.loads(text), origin)
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
        raise RegistryError(f"cannot load source registry {path or 'bundled'}: {exc}") from exc
