"""Writes the parquet fixtures of test/corpus/records.test.ts with pyarrow (the reference writer),
plus what pyarrow reads back from them as jsonl, so the test can check that our reader (hyparquet)
gives the same rows. Run: .venv/bin/python tools/corpus/parquet_fixture.py"""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

out = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "corpus")
os.makedirs(out, exist_ok=True)

texts = [f"第{i}行：这是一段测试文本。Line {i} of the test text, with \"quotes\" and a tab\t." for i in range(50)]
texts[7] = ""  # an empty text
text_table = pa.table({"id": pa.array(range(50), pa.int64()), "text": texts, "score": [i / 7 for i in range(50)]})
# two row groups (20 + 20 + 10 rows), snappy: pyarrow's default codec
pq.write_table(text_table, os.path.join(out, "text.parquet"), row_group_size=20, compression="snappy")

conversations = [
    [{"role": "user", "content": f"问题 {i}"}, {"role": "assistant", "content": f"回答 {i}"}] for i in range(12)
]
conversations[3].insert(0, {"role": "system", "content": "你是助手"})
chat_table = pa.table({"conversations": conversations})
pq.write_table(chat_table, os.path.join(out, "chat.parquet"), compression="gzip")

# a string column whose second value is not UTF-8 (from_buffers skips the check that pa.array makes):
# pyarrow writes it, and reading it back raises UnicodeDecodeError, as our reader refuses that row
values = [b"first row", b"cut \xe6\xb1 short", "a real \ufffd replacement character stays".encode()]
offsets = [0]
for v in values:
    offsets.append(offsets[-1] + len(v))
bad = pa.StringArray.from_buffers(len(values), pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]), pa.py_buffer(b"".join(values)))
pq.write_table(pa.table({"text": bad, "id": [1, 2, 3]}), os.path.join(out, "bad-utf8.parquet"))

for name in ["text", "chat"]:
    rows = pq.read_table(os.path.join(out, f"{name}.parquet")).to_pylist()
    with open(os.path.join(out, f"{name}.parquet.expected.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
print("wrote", out)
