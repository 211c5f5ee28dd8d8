"""The reference for `minimind eval ceval`: scores C-Eval-layout CSVs with transformers, one question
per forward pass, and prints one JSON line per question.

  letter  MiniMind v1's eval_ceval.py@a87f628 step for step: pandas.read_csv, the f-string prompt,
          messages [system "开始回答问题", user prompt], tokenizer.apply_chat_template(tokenize=False,
          add_generation_prompt=True), tokenizer(new_prompt).data['input_ids'], left truncation to
          max_seq_len (v1's eval_answer), logits of the last position, F.softmax, then
          max(options_prob, key=options_prob.get) over the probabilities of tokenizer('A') ... ('D').
  loglik  lm-evaluation-harness's multiple_choice as HFLM runs it: doc_to_text rendered with jinja2
          from the ceval task yaml, description from the task generator, continuations " A" ... " D",
          _encode_pair (trailing context spaces move to the continuation; continuation tokens =
          encode(context + continuation)[len(encode(context)):]), input (ctx + cont)[-(max_len+1):][:-1],
          summed log_softmax over the continuation tokens.

Usage: .venv/bin/python tools/eval_reference.py <model_folder> <csv_dir|file.csv> [--method letter|loglik]
           [--max-seq-len 512] [--prompts-only] [--subject-zh name] [--limit N] [--timing]
--prompts-only prints the rendered prompt and its ids (letter) without running the model. CMMLU's
Question / Answer columns are read as question / answer. --timing times the scoring loop alone.
"""

import argparse
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_folder')
    ap.add_argument('csv_dir')
    ap.add_argument('--method', default='letter', choices=['letter', 'loglik'])
    ap.add_argument('--max-seq-len', type=int, default=512)
    ap.add_argument('--prompts-only', action='store_true')
    ap.add_argument('--subject-zh', default=None, help='loglik: the Chinese subject name of the description')
    ap.add_argument('--limit', type=int, default=None, help='stop after this many questions')
    ap.add_argument('--timing', action='store_true', help='print {"questions", "seconds"} of the scoring loop to stderr')
    args = ap.parse_args()

    import pandas as pd
    import torch
    import torch.nn.functional as F
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model_folder)
    model = None
    if not args.prompts_only:
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained(args.model_folder, dtype=torch.float32).eval()

    if os.path.isfile(args.csv_dir):
        paths = [args.csv_dir]
    else:
        paths = [os.path.join(args.csv_dir, f) for f in sorted(os.listdir(args.csv_dir)) if f.endswith('.csv')]
    import time
    t0 = time.perf_counter()
    done = 0
    for path in paths:
        filename = os.path.basename(path)
        test_df = pd.read_csv(path)
        if 'Question' in test_df.columns:  # CMMLU spells it Question / Answer
            test_df = test_df.rename(columns={'Question': 'question', 'Answer': 'answer'})
        for i, row in enumerate(test_df.itertuples(index=True, name='Pandas')):
            if args.limit is not None and done >= args.limit:
                break
            done += 1
            if args.method == 'letter':
                out = letter(row, tokenizer, model, args.max_seq_len, F, torch)
            else:
                out = loglik(row, tokenizer, model, args.max_seq_len, args.subject_zh, F, torch)
            print(json.dumps({'file': filename, 'index': i, **out}, ensure_ascii=False))
    if args.timing:
        print(json.dumps({'questions': done, 'seconds': time.perf_counter() - t0}), file=sys.stderr)


def letter(row, tokenizer, model, max_seq_len, F, torch):
    question, A, B, C, D = (getattr(row, c) for c in ['question', 'A', 'B', 'C', 'D'])
    prompt = f'{question}。选择 A: {A}, B: {B}, C: {C}, D: {D}'
    messages = [{"role": "system", "content": "开始回答问题"}, {"role": "user", "content": prompt}]
    new_prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(new_prompt).data['input_ids']
    out = {'prompt': new_prompt, 'ids': ids}
    if model is None:
        return out
    x = torch.tensor(ids, dtype=torch.long)[None, ...]
    x = x if x.size(1) <= max_seq_len else x[:, -max_seq_len:]
    with torch.no_grad():
        logits = model(x).logits[:, -1, :]
    probabilities = F.softmax(logits, dim=-1)
    letter_ids = {l: tokenizer(l).data['input_ids'] for l in 'ABCD'}
    options_prob = {l: probabilities[0, letter_ids[l]].item() for l in 'ABCD'}
    out['logits'] = [logits[0, letter_ids[l]].item() for l in 'ABCD']
    out['probs'] = [options_prob[l] for l in 'ABCD']
    out['prediction'] = max(options_prob, key=options_prob.get)
    return out


def loglik(row, tokenizer, model, max_len, subject_zh, F, torch):
    import jinja2
    doc = {c: getattr(row, c) for c in ['question', 'A', 'B', 'C', 'D']}
    # lm_eval/tasks/ceval/_default_ceval_yaml and _generate_configs.py.
    text = jinja2.Template("{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n答案：", keep_trailing_newline=True).render(**doc)
    description = f"以下是中国关于{subject_zh}的单项选择题，请选出其中的正确答案。\n\n" if subject_zh else ''
    context = description + text
    enc = lambda s: tokenizer(s, add_special_tokens=False).input_ids
    scores = []
    for choice in ['A', 'B', 'C', 'D']:
        ctx, cont = context, ' ' + choice
        n_spaces = len(ctx) - len(ctx.rstrip())
        if n_spaces > 0:
            cont = ctx[-n_spaces:] + cont
            ctx = ctx[:-n_spaces]
        whole = enc(ctx + cont)
        ctx_enc = enc(ctx)
        cont_enc = whole[len(ctx_enc):]
        inp = torch.tensor((ctx_enc + cont_enc)[-(max_len + 1):][:-1], dtype=torch.long)[None, ...]
        with torch.no_grad():
            logp = F.log_softmax(model(inp).logits.float(), dim=-1)[0]
        n = len(cont_enc)
        picked = logp[-n:].gather(1, torch.tensor(cont_enc)[:, None])
        scores.append(picked.sum().item())
    best = max(range(4), key=lambda k: (scores[k], -k))
    return {'scores': scores, 'prediction': 'ABCD'[best]}


if __name__ == '__main__':
    sys.exit(main())
