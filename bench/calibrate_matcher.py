"""Grid search of the matcher's blend on PIT-2015 dev and the Twitter URL corpus.

Run: ``.venv/bin/python -m bench.calibrate_matcher``. Prints the best weight and
threshold combinations by summed F1, then F1/precision/recall at the shipped
weights for a range of thresholds. The shipped threshold leans to precision,
because a false merge corrupts a cluster's evidence while a miss only delays it.
"""

import re
from pathlib import Path

from rapidfuzz import fuzz

from streams.domain.matching import match_text
from streams.domain.normalise import normalise

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

pairs = []
for line in (SHARED / "pit2015/dev.data").read_text("utf-8").splitlines():
    f = line.rstrip("\n").split("\t")
    p, n = map(int, re.findall(r"\d+", f[4]))
    if p == 2:
        continue
    pairs.append((f[2], f[3], p >= 3))
A = (SHARED / "twitter-url-corpus/train/a.toks").read_text("utf-8").splitlines()
B = (SHARED / "twitter-url-corpus/train/b.toks").read_text("utf-8").splitlines()
S = (SHARED / "twitter-url-corpus/train/sim.txt").read_text("utf-8").split()
url = list(zip(A, B, [s == "1" for s in S], strict=True))[:20000]


def feats(ps):
    out = []
    for a, b, y in ps:
        ta, tb = match_text(normalise(a)), match_text(normalise(b))
        sa, sb = set(ta.split()), set(tb.split())
        short = min(len(ta.split()), len(tb.split())) < 3
        dice = 2 * len(sa & sb) / (len(sa) + len(sb)) if sa and sb else 0
        out.append(
            (
                fuzz.token_set_ratio(ta, tb) / 100,
                fuzz.token_sort_ratio(ta, tb) / 100,
                dice,
                short,
                ta == tb,
                y,
            )
        )
    return out


def f1(fs, w1, w2, th):
    tp = fp = fn = 0
    for s1, s2, d, short, eq, y in fs:
        sc = 1.0 if (short and eq) else (0.0 if short else w1 * s1 + w2 * s2 + (1 - w1 - w2) * d)
        pr = sc >= th
        tp += pr and y
        fp += pr and not y
        fn += (not pr) and y
    p = tp / (tp + fp) if tp + fp else 0
    r = tp / (tp + fn) if tp + fn else 0
    return round(2 * p * r / (p + r) if p + r else 0, 4), round(p, 3), round(r, 3)


F = feats(pairs)
U = feats(url)
best = []
for w1 in [0, 0.2, 0.3, 0.4, 0.5, 0.6]:
    for w2 in [0, 0.1, 0.2, 0.3, 0.4]:
        if w1 + w2 > 1:
            continue
        for th in [x / 100 for x in range(30, 80, 2)]:
            a = f1(F, w1, w2, th)
            b = f1(U, w1, w2, th)
            best.append((round(a[0] + b[0], 4), w1, w2, th, a, b))
best.sort(reverse=True)
for x in best[:10]:
    print(x)
print("at chosen:", [(th, f1(F, 0.3, 0.3, th), f1(U, 0.3, 0.3, th)) for th in (0.5, 0.54, 0.56, 0.58, 0.6)])
