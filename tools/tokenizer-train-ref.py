# Reference trainer for tests and benchmarks: trains a byte-level BPE exactly as MiniMind's
# train_tokenizer.py does, with Hugging Face `tokenizers` (Rust), and prints one JSON line with the
# wall time. Files are fed like HF `tokenizer.train(files)` (txt: line by line) or, for *.jsonl, each
# record's `text` / joined `conversations` contents as one sequence (MiniMind's train_from_iterator).
# usage: python tools/tokenizer-train-ref.py --out DIR --vocab-size N --specials a,b,c [--threads 1] FILES...
import argparse, json, os, sys, time

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--vocab-size', type=int, default=6400)
p.add_argument('--specials', default='<|endoftext|>,<|im_start|>,<|im_end|>')
p.add_argument('--threads', type=int, default=1)
p.add_argument('files', nargs='+')
a = p.parse_args()
os.environ['RAYON_NUM_THREADS'] = str(a.threads)
os.environ['RAYON_RS_NUM_CPUS'] = str(a.threads)
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

def jsonl_texts(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if isinstance(r.get('text'), str):
                yield r['text']
            elif isinstance(r.get('conversations'), list):
                parts = [t.get('content') for t in r['conversations'] if isinstance(t, dict) and isinstance(t.get('content'), str) and t.get('content')]
                if parts:
                    yield '\n'.join(parts)

specials = [s for s in a.specials.split(',') if s]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=a.vocab_size, special_tokens=specials, show_progress=False,
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
t0 = time.perf_counter()
c0 = time.process_time()
txt = [f for f in a.files if not f.endswith('.jsonl')]
jl = [f for f in a.files if f.endswith('.jsonl')]
if jl and txt:
    sys.exit('mix of jsonl and text files is not supported by this reference script')
if jl:
    tok.train_from_iterator((t for f in jl for t in jsonl_texts(f)), trainer=trainer)
else:
    tok.train(txt, trainer=trainer)
secs = time.perf_counter() - t0
cpu = time.process_time() - c0
os.makedirs(a.out, exist_ok=True)
tok.save(os.path.join(a.out, 'tokenizer.json'))
try:
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
except Exception:
    rss = None
print(json.dumps({'seconds': secs, 'cpu_seconds': cpu, 'peak_rss_mb': rss, 'vocab': tok.get_vocab_size()}))
