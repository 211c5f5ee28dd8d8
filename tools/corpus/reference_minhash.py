"""Python reference of `minimind data dedup --near`: datatrove's MinHash deduplication with its
defaults (pipeline/dedup/minhash.py: MinhashConfig n_grams=5, num_buckets=14, hashes_per_bucket=8,
seed=1, 64-bit xxhash), written from datatrove's documented steps with numpy and xxhash:
  1. shingles: xxh64 of " ".join(n words) of simplify_text(text) (words: NLTK's Treebank rules as in
     reference_filters.py, since punkt cannot be installed offline)
  2. signature: min over shingles of (shingle * a + b) % (2**61 - 1) in numpy uint64 arithmetic, with
     a, b = RandomState(seed).randint(1 | 0, 2**61 - 1, dtype=uint64, size=(1, bands * rows))
  3. buckets: documents whose band j signatures are equal are duplicate pairs (sorted, as datatrove's
     MinhashDedupBuckets matches consecutive equal signatures)
  4. clusters: union-find over the pairs; datatrove keeps one document per cluster.
Usage: reference_minhash.py IN.jsonl OUT.jsonl [ngram bands rows seed]
OUT rows: {"sig": [str(uint64)...], "cluster": smallest row index of its cluster}
"""
import json
import re
import sys
import unicodedata

import numpy as np
import xxhash

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from reference_filters import words  # noqa: E402

with open(__file__.rsplit("/", 1)[0] + "/punctuation-simplify.txt", encoding="utf-8") as f:
    PUNCTUATION = json.load(f)
TRANS = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
NUMBERS = re.compile(r"\d+([.,،٫⎖⎗⎘]{1}\d+)?")
P = np.uint64((1 << 61) - 1)


def simplify(text):
    text = text.lower()
    text = NUMBERS.sub("0", text)
    text = text.translate(TRANS)
    text = re.sub(r"\s+", " ", text.strip())
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return text.strip()


def main():
    src, dst = sys.argv[1], sys.argv[2]
    ngram, bands, rows, seed = (int(x) for x in (sys.argv[3:7] if len(sys.argv) > 3 else (5, 14, 8, 1)))
    gen = np.random.RandomState(seed)
    a = gen.randint(1, P, dtype=np.uint64, size=(1, bands * rows))
    b = gen.randint(0, P, dtype=np.uint64, size=(1, bands * rows))
    texts = [json.loads(l)["text"] for l in open(src, encoding="utf-8") if l.strip()]
    sigs = []
    for t in texts:
        ws = words(simplify(t))
        grams = [" ".join(ws[i:i + ngram]) for i in range(len(ws) - ngram + 1)]
        if not grams:
            sigs.append(None)
            continue
        sh = np.fromiter((xxhash.xxh64_intdigest(g.encode("utf-8")) for g in grams), dtype=np.uint64).reshape((-1, 1))
        phv = (sh * a + b) % P
        sigs.append([int(x) for x in np.min(phv, axis=0)])
    parent = list(range(len(texts)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for j in range(bands):
        keyed = sorted((tuple(s[j * rows:(j + 1) * rows]), i) for i, s in enumerate(sigs) if s is not None)
        for (k1, i1), (k2, i2) in zip(keyed, keyed[1:]):
            if k1 == k2:
                r1, r2 = find(i1), find(i2)
                if r1 != r2:
                    parent[max(r1, r2)] = min(r1, r2)
    with open(dst, "w", encoding="utf-8") as out:
        for i, s in enumerate(sigs):
            out.write(json.dumps({"sig": None if s is None else [str(x) for x in s], "cluster": find(i)}) + "\n")


if __name__ == "__main__":
    main()
