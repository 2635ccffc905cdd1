"""A probe of the encoders on conflict news: rewordings of one claim against other claims
about the same place.

Why: the pair data sets (PIT-2015, the URL corpus) are sports, celebrities and
headlines; the claims this service is for are of the kind "rebels have captured
X" against "jets are bombing X", where the place is shared and the predicate is
everything. Six claims, each in two wordings, about each of eight places: the
two wordings of a claim should match, two claims about one place should not.
Hand-written once, before either encoder was scored on it, and not tuned to:
it is a probe, not a training set. Prints, for the plain and the adapted
encoder, the share of rewordings and of different claims at or above the pair,
join and merge bars. Run: ``.venv/bin/python -m bench.same_place``.
"""

from __future__ import annotations

import sys

from streams.domain.clustering import ClusterConfig
from streams.domain.encoder import load_encoder
from streams.domain.matching import MatchConfig, claim_similarity, load_model
from streams.domain.normalise import normalise

__all__ = ["CLAIMS", "PLACES", "main", "probe"]

PLACES = ["the Panjshir valley", "Kharkiv", "Mariupol", "Khartoum", "Gaza City", "Aleppo", "Mosul", "Tigray"]
CLAIMS = [
    ("Rebels have captured {p}", "{p} has fallen to the rebels"),
    ("Fighter jets are bombing {p}", "Air strikes are hitting {p} right now"),
    ("A ceasefire has been agreed in {p}", "Both sides accept a truce in {p}"),
    ("Thousands of civilians are fleeing {p}", "Mass exodus of residents from {p}"),
    ("The army says it still holds {p}", "Government troops remain in control of {p}"),
    ("A hospital in {p} was hit by shelling", "Shells struck a hospital in {p}"),
]


def probe(config: MatchConfig) -> tuple[list[float], list[float]]:
    """Scores of the rewording pairs and of the pairs of different claims about one place."""

    def score(a: str, b: str, place: str) -> float:
        return claim_similarity(normalise(a.format(p=place)), normalise(b.format(p=place)), config)

    same: list[float] = []
    different: list[float] = []
    for place in PLACES:
        for i, (a1, a2) in enumerate(CLAIMS):
            same.append(score(a1, a2, place))
            for b1, b2 in CLAIMS[i + 1 :]:
                different += [score(a1, b1, place), score(a2, b2, place)]
    return same, different


def main() -> int:
    cluster = ClusterConfig()
    for name, adapted in (("plain", False), ("adapted", True)):
        config = MatchConfig(model=load_model(adapted=adapted), encoder=load_encoder(adapted=adapted))
        same, different = probe(config)
        for label, bar in (
            ("pair", config.model.threshold),
            ("join", cluster.join_threshold),
            ("merge", cluster.merge_threshold),
        ):
            found = sum(s >= bar for s in same) / len(same)
            wrong = sum(s >= bar for s in different) / len(different)
            print(
                f"{name:8} {label:5} bar {bar:.2f}: rewordings matched {found:.3f} ({len(same)}), "
                f"different claims matched {wrong:.3f} ({len(different)})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
