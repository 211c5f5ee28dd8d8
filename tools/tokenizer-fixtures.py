# Regenerates the tokenizer test fixtures from the Python reference implementations:
#   test/tokenizer/fixtures/chat-templates.json : transformers' apply_chat_template(tokenize=False)
#       of MiniMind's v1 / minimind2 / minimind-3 tokenizers on a set of conversations;
#   test/tokenizer/fixtures/train-merges.json   : the merges HF tokenizers' BpeTrainer learns on two
#       corpora from ../shared/data (a text file and a conversations jsonl), plus the sha256 of the
#       tokenizer.json HF saves, so the TS trainer can be checked merge for merge and byte for byte.
# Run from the repo root with a venv holding transformers + tokenizers:
#   python3 -m venv .venv && .venv/bin/pip install transformers tokenizers jinja2
#   .venv/bin/python tools/tokenizer-fixtures.py
import hashlib, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, '..', 'shared', 'data')
TOK = os.path.join(SHARED, 'minimind-tokenizer')
OUT = os.path.join(ROOT, 'test', 'tokenizer', 'fixtures')

from transformers import AutoTokenizer

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "查询城市天气 (weather)",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "城市名"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "description": "Add two numbers",
     "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}},
]

CASES = [
    ("user only", [{"role": "user", "content": "你好"}], {}),
    ("user only + generation prompt", [{"role": "user", "content": "你好"}], {"add_generation_prompt": True}),
    ("system + multi-turn", [
        {"role": "system", "content": "You are MiniMind."},
        {"role": "user", "content": "Hi! What's 1+1?"},
        {"role": "assistant", "content": "It is 2."},
        {"role": "user", "content": "再见\n  谢谢"},
    ], {"add_generation_prompt": True}),
    ("assistant last, no prompt", [
        {"role": "user", "content": "Tell me a joke"},
        {"role": "assistant", "content": "Why did the \"chicken\" cross the road?"},
    ], {}),
    ("open_thinking true", [{"role": "user", "content": "3*7?"}], {"add_generation_prompt": True, "open_thinking": True}),
    ("open_thinking false", [{"role": "user", "content": "3*7?"}], {"add_generation_prompt": True, "open_thinking": False}),
    ("enable_thinking false", [{"role": "user", "content": "3*7?"}], {"add_generation_prompt": True, "enable_thinking": False}),
    ("reasoning_content", [
        {"role": "user", "content": "3*7?"},
        {"role": "assistant", "content": "21", "reasoning_content": "\n3 times 7 is 21.\n"},
    ], {}),
    ("think tags in content", [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nsimple sum\n</think>\n\n4"},
        {"role": "user", "content": "and 3+3?"},
    ], {"add_generation_prompt": True}),
    ("system not first", [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "ok"},
    ], {}),
    ("tools + tool calls + tool responses", [
        {"role": "system", "content": "你是一个助手"},
        {"role": "user", "content": "北京天气？再算 1+2"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京"}}},
            {"name": "add", "arguments": "{\"a\": 1, \"b\": 2}"},
        ]},
        {"role": "tool", "content": "{\"weather\": \"晴\"}"},
        {"role": "tool", "content": "3"},
        {"role": "assistant", "content": "北京晴，1+2=3。"},
    ], {"tools": TOOLS, "add_generation_prompt": True}),
    ("tools without system, call after text", [
        {"role": "user", "content": "add 2 and 5"},
        {"role": "assistant", "content": "Let me add.", "tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 5}}]},
        {"role": "tool", "content": "7"},
    ], {"tools": TOOLS}),
]

def chat_fixtures():
    out = []
    for name in ["v1", "minimind2", "head"]:
        tok = AutoTokenizer.from_pretrained(os.path.join(TOK, name))
        for case, messages, opts in CASES:
            if name == "v1" and "tools" in opts:
                continue
            kw = dict(opts)
            expected = tok.apply_chat_template(messages, tokenize=False, **kw)
            out.append({"tokenizer": name, "case": case, "messages": messages, "options": opts, "expected": expected})
    return out

TRAIN_CASES = [
    # name, files (relative to ../shared/data), vocab size, specials
    ("tinystories-txt-chatml", ["tinystories/tinystories_val_prefix.txt"], 2000, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
    ("alpaca-zh-conversations-minimind3", ["minimind-format/sft_alpaca_zh_demo.jsonl"], 1500, None),
]

MINIMIND3 = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
             "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
             "<|image_pad|>", "<|video_pad|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>", "<tts_pad>",
             "<tts_text_bos>", "<tts_text_eod>", "<tts_text_bos_single>", "<tool_call>", "</tool_call>",
             "<tool_response>", "</tool_response>", "<think>", "</think>"] + [f"<|buffer{i}|>" for i in range(1, 10)]

def train_fixtures():
    out = []
    for name, files, vocab, specials in TRAIN_CASES:
        specials = specials or MINIMIND3
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "tokenizer-train-ref.py"), "--out", d,
                            "--vocab-size", str(vocab), "--specials", ",".join(specials)] +
                           [os.path.join(SHARED, f) for f in files], check=True, stdout=subprocess.DEVNULL)
            raw = open(os.path.join(d, "tokenizer.json"), "rb").read()
        j = json.loads(raw)
        out.append({"name": name, "files": files, "vocab_size": vocab, "special_tokens": specials,
                    "merges": [" ".join(m) for m in j["model"]["merges"]],
                    "tokenizer_json_sha256": hashlib.sha256(raw).hexdigest()})
    return out

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "chat-templates.json"), "w", encoding="utf-8") as f:
    json.dump(chat_fixtures(), f, ensure_ascii=False, indent=1)
with open(os.path.join(OUT, "train-merges.json"), "w", encoding="utf-8") as f:
    json.dump(train_fixtures(), f, ensure_ascii=False)
print("wrote", OUT)
