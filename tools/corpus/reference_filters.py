"""Python reference of `minimind data clean`'s rules, written from the documented rules (datatrove's
GopherRepetitionFilter, GopherQualityFilter and C4QualityFilter defaults; NLTK's Treebank word
rules; our text repairs), independently of the TypeScript code. datatrove itself cannot run here
(it needs NLTK's punkt model, which is not installable offline), so test/corpus/clean.test.ts
compares our decisions with this file's.

Usage: reference_filters.py IN.jsonl OUT.jsonl [--filters gopher-repetition,gopher-quality,c4]
IN rows are {"text": ...}; OUT rows are {"keep": bool, "reason": str|null, "text": str, "words": [...]}.
"""
import html
import json
import re
import sys
import unicodedata
from collections import Counter

# --- text repairs -----------------------------------------------------------------------------
CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200d\u2060\ufeff\ufffd\u202a-\u202e]")
TAG = re.compile(r"</?(?:[a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>|<!--[\s\S]*?-->")
BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|tr|h[1-6]|ul|ol|table|section|article)\b[^<>]*>", re.I)
ENTITY = re.compile(r"&(nbsp|amp|lt|gt|quot|apos|#39|mdash|ndash|hellip|copy|reg|#\d{1,6}|#x[0-9a-fA-F]{1,5});")
NAMED = {"nbsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "#39": "'", "mdash": "—", "ndash": "–", "hellip": "…", "copy": "©", "reg": "®"}


def entity(m):
    name = m.group(1)
    if name.startswith("#") and name != "#39":
        code = int(name[2:], 16) if name[1] == "x" else int(name[1:])
        return chr(code) if 0 < code < 0x110000 else ""
    return NAMED[name]


def normalize(text):
    s = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if "<" in s:
        s = TAG.sub("", BLOCK_TAG.sub("\n", s))
    if "&" in s:
        s = ENTITY.sub(entity, s)
    s = unicodedata.normalize("NFC", s)
    s = re.sub(r"[ \t]+\n", "\n", s)
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s.strip(" \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


# --- words: NLTK's Treebank rules on sentences cut by punkt's main rule -----------------------
W = r"[^\W]"
STARTING_QUOTES = [
    (re.compile(r"([«“‘„]|[`]+)"), r" \1 "),
    (re.compile(r'^"'), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ (\[{<])(\"|\'{2})"), r"\1 `` "),
    (re.compile(r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)(?!\w)"), r"\1 \2"),
]
PUNCT = [
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2 \3 "),
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.{2,}"), r" \g<0> "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[*]"), r" \g<0> "),
]
PARENS = [(re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> "), (re.compile(r"--"), r" -- ")]
ENDING_QUOTES = [
    (re.compile(r"([»”’])"), r" \1 "),
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
CONTRACTIONS = [re.compile(p, re.I) for p in [r"(?<!\w)(can)(not)(?!\w)", r"(?<!\w)(d)('ye)(?!\w)", r"(?<!\w)(gim)(me)(?!\w)", r"(?<!\w)(gon)(na)(?!\w)", r"(?<!\w)(got)(ta)(?!\w)", r"(?<!\w)(lem)(me)(?!\w)", r"(?<!\w)(more)('n)(?!\w)", r"(?<!\w)(wan)(na)(?=\s)", r"(?<!\w)('t)(is)(?!\w)", r"(?<!\w)('t)(was)(?!\w)"]]


def treebank(sentence):
    t = sentence
    for r, s in STARTING_QUOTES + PUNCT + PARENS:
        t = r.sub(s, t)
    t = " " + t + " "
    for r, s in ENDING_QUOTES:
        t = r.sub(s, t)
    for r in CONTRACTIONS:
        t = r.sub(r" \1 \2 ", t)
    return t.split()


ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "jr", "sr", "inc", "no", "fig", "co", "ltd", "u.s", "a.m", "p.m"}
SENT_END = re.compile(r"([.!?]+)([\"'”’)\]]*)(\s+)(?=[^\s])")


def sentences(text):
    out, start = [], 0
    for m in SENT_END.finditer(text):
        nxt = text[m.end()]
        if nxt.islower():
            continue
        end = m.start() + len(m.group(1)) + len(m.group(2))
        if m.group(1) == ".":
            before = text[start:m.start()].split()
            word = re.sub(r"^[(\"'“‘\[]+", "", before[-1].lower()) if before else ""
            if word in ABBREV or (len(word) == 1 and word.isalpha()):
                continue
        s = text[start:end].strip()
        if s:
            out.append(s)
        start = end
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def words(text):
    return [w for s in sentences(text) for w in treebank(s)]


# --- the filters (datatrove's defaults) -------------------------------------------------------
with open(sys.argv[0].rsplit("/", 1)[0] + "/punctuation.txt", encoding="utf-8") as f:
    PUNCTUATION = set(json.load(f))
STOP = {"the", "be", "to", "of", "and", "that", "have", "with"}


def gopher_quality(text, ws):
    content = [w for w in ws if any(c not in PUNCTUATION for c in w)]
    if len(content) < 50:
        return "gopher_short_doc"
    if len(content) > 100000:
        return "gopher_long_doc"
    avg = sum(len(w) for w in content) / len(content)
    if avg < 3:
        return "gopher_below_avg_threshold"
    if avg > 10:
        return "gopher_above_avg_threshold"
    if text.count("#") / len(ws) > 0.1:
        return "gopher_too_many_hashes"
    if (text.count("...") + text.count("…")) / len(ws) > 0.1:
        return "gopher_too_many_ellipsis"
    lines = text.splitlines()
    if sum(1 for l in lines if l.lstrip()[:1] in ("•", "-")) / len(lines) > 0.9:
        return "gopher_too_many_bullets"
    if sum(1 for l in lines if l.rstrip().endswith(("...", "…"))) / len(lines) > 0.3:
        return "gopher_too_many_end_ellipsis"
    if sum(1 for w in ws if any(c.isalpha() for c in w)) / len(ws) < 0.8:
        return "gopher_below_alpha_threshold"
    if len(STOP & set(ws)) < 2:
        return "gopher_enough_stop_words"
    return None


def dup_count(items):
    seen, n, chars = set(), 0, 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


def gopher_repetition(text, ws):
    paras = re.split(r"\n{2,}", text.strip())
    n, c = dup_count(paras)
    if n / len(paras) > 0.3:
        return "dup_para_frac"
    if c / len(text) > 0.2:
        return "dup_para_char_frac"
    lines = re.split(r"\n+", text)
    n, c = dup_count(lines)
    if n / len(lines) > 0.3:
        return "dup_line_frac"
    if c / len(text) > 0.2:
        return "dup_line_char_frac"
    for k, frac in ((2, 0.2), (3, 0.18), (4, 0.16)):
        grams = [" ".join(ws[i:i + k]) for i in range(len(ws) - k + 1)]
        if not grams:
            continue
        g, cnt = Counter(grams).most_common(1)[0]
        if len(g) * cnt / len(text) > frac:
            return f"top_{k}_gram"
    for k, frac in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)):
        seen, chars, i = set(), 0, 0
        while i < len(ws) - k + 1:
            g = "".join(ws[i:i + k])
            if g in seen:
                chars += len(g)
                i += k
            else:
                seen.add(g)
                i += 1
        if chars / len(text) > frac:
            return f"duplicated_{k}_n_grams"
    return None


CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]


def c4(text):
    kept, n_sent = [], 0
    for line in text.splitlines():
        line = line.strip()
        ws = line.split()
        if any(len(w) > 1000 for w in ws):
            continue
        line = CITATION.sub("", line)
        if not line.endswith((".", "?", "!", '"', "'")) or line.endswith("..."):
            continue
        if len(ws) < 3:
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            return "c4_lorem_ipsum", text
        if "javascript" in low:
            continue
        if "{" in line:
            return "c4_curly_bracket", text
        if any(p in low for p in POLICY):
            continue
        n_sent += len(sentences(line))
        kept.append(line)
    if n_sent < 5:
        return "c4_too_few_sentences", text
    return None, "\n".join(kept).strip()


def main():
    src, dst = sys.argv[1], sys.argv[2]
    filters = sys.argv[4].split(",") if len(sys.argv) > 4 else ["gopher-repetition", "gopher-quality", "c4"]
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if not line.strip():
                continue
            text = normalize(json.loads(line)["text"])
            ws = words(text)
            reason = None if text.strip() else "too_short"
            for name in filters if reason is None else []:
                if name == "gopher-repetition":
                    reason = gopher_repetition(text, ws)
                elif name == "gopher-quality":
                    reason = gopher_quality(text, ws)
                else:
                    reason, text = c4(text)
                    ws = words(text)
                if reason:
                    break
            out.write(json.dumps({"keep": reason is None, "reason": reason, "text": text, "words": words(normalize(json.loads(line)["text"]))}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
