"""Python references timed by bench/data.ts, on the same jsonl file as ours:
  exact    : NFKC + lower + whitespace folding, md5, the first row of each key written out (as `data dedup --exact-only`)
  tokenize : MiniMind's PretrainDataset encoding with the Rust `tokenizers` library
             (bos + encode(text)[:L-2] + eos), ids appended to one uint16 array (as `data tokenize`)
Usage: reference_bench.py exact IN.jsonl OUT.jsonl | tokenize IN.jsonl TOKENIZER_DIR MAX_LEN; prints one JSON line."""
import hashlib
import json
import re
import sys
import time
import unicodedata

import numpy as np

mode, src = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
rows = kept = tokens = 0
if mode == "exact":
    seen = set()
    ws = re.compile(r"\s+")
    out = open(sys.argv[3], "w", encoding="utf-8")
    for line in open(src, encoding="utf-8"):
        if not line.strip():
            continue
        text = json.loads(line)["text"]
        key = hashlib.md5(ws.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip().encode()).digest()[:8]
        rows += 1
        if key not in seen:
            seen.add(key)
            kept += 1
            out.write(line)
    out.close()
else:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(sys.argv[3] + "/tokenizer.json")
    cfg = json.load(open(sys.argv[3] + "/tokenizer_config.json"))
    bos, eos = tok.token_to_id(cfg["bos_token"]), tok.token_to_id(cfg["eos_token"])
    max_len = int(sys.argv[4])
    out = []
    for line in open(src, encoding="utf-8"):
        if not line.strip():
            continue
        ids = tok.encode(json.loads(line)["text"], add_special_tokens=False).ids[: max_len - 2]
        out.append(np.array([bos] + ids + [eos], dtype=np.uint16))
        rows += 1
    tokens = int(sum(len(a) for a in out))
    np.concatenate(out).tofile("/dev/null")
print(json.dumps({"mode": mode, "seconds": time.perf_counter() - t0, "rows": rows, "kept": kept, "tokens": tokens}))
