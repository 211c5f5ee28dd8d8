"""MiniMind's own trainer, run on a fixed slice of data, for side-by-side loss comparisons.

Imports train_epoch from MiniMind's trainer/train_pretrain.py, train_full_sft.py, train_dpo.py
or train_distillation.py (a checkout given by --minimind; nothing of it is copied here) and runs
it as their __main__ does, on CPU in fp32, with two changes that make the run comparable:
  - shuffle off: every epoch reads examples 0..rows-1 in order, batch_size at a time (their
    SkipBatchSampler over a fixed index list instead of torch.randperm);
  - the initial weights come from --weights (a .pth written by `minimind export pth
    --save-dtype fp32`), loaded strictly (their init_model uses strict=False, which would hide
    a mismatch); distillation's frozen teacher likewise from --teacher_weights.
Their SFT/DPO datasets augment at random (a system prompt with p=0.2, dropping the empty
<think> block with p=0.8); --system-ratio / --drop-think-ratio set those probabilities
(default 0 / 0: our stages' defaults) by calling MiniMind's own pre/post_processing_chat with
them.

Their train_epoch logs through a `wandb` object; we pass one that records every micro-step's
{"loss", "learning_rate", ...} at full precision (log_interval 1). Output: one JSON document.

  .venv/bin/python tools/minimind_fidelity.py --minimind /tmp/minimind --stage pretrain \\
      --weights init.pth --tokenizer TOKDIR --data pretrain.jsonl --rows 8 --batch-size 2 ...
"""
import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--minimind', required=True, help='a checkout of jingyaogong/minimind (model/, dataset/, trainer/)')
    p.add_argument('--stage', required=True, choices=['pretrain', 'sft', 'dpo', 'distill'])
    p.add_argument('--weights', required=True, help='initial state dict (.pth, fp32)')
    p.add_argument('--tokenizer', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--rows', type=int, required=True, help='use examples 0..rows-1, in order')
    p.add_argument('--hidden_size', type=int, required=True)
    p.add_argument('--num_hidden_layers', type=int, required=True)
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--batch_size', type=int, default=2)
    p.add_argument('--learning_rate', type=float, default=5e-4)
    p.add_argument('--accumulation_steps', type=int, default=1)
    p.add_argument('--grad_clip', type=float, default=1.0)
    p.add_argument('--max_seq_len', type=int, default=64)
    p.add_argument('--beta', type=float, default=0.15)
    p.add_argument('--system_ratio', type=float, default=0.0)
    p.add_argument('--drop_think_ratio', type=float, default=0.0)
    p.add_argument('--teacher_weights', help='distill: the frozen teacher state dict (.pth, fp32)')
    p.add_argument('--teacher_hidden_size', type=int)
    p.add_argument('--teacher_num_hidden_layers', type=int)
    p.add_argument('--alpha', type=float, help='distill: weight of the CE term')
    p.add_argument('--temperature', type=float, help='distill: softmax temperature')
    a = p.parse_args()

    root = os.path.abspath(a.minimind)
    sys.path.insert(0, root)
    import torch
    from torch.utils.data import DataLoader
    from transformers import AutoTokenizer
    torch.set_num_threads(1)
    torch.manual_seed(42)
    from model.model_minimind import MiniMindConfig, MiniMindForCausalLM
    import dataset.lm_dataset as lm_dataset
    from trainer.trainer_utils import SkipBatchSampler
    script = {'pretrain': 'train_pretrain', 'sft': 'train_full_sft', 'dpo': 'train_dpo', 'distill': 'train_distillation'}[a.stage]
    mod = importlib.import_module('trainer.' + script)

    pre, post = lm_dataset.pre_processing_chat, lm_dataset.post_processing_chat
    lm_dataset.pre_processing_chat = lambda conv, add_system_ratio=0.2: pre(conv, add_system_ratio=a.system_ratio)
    # post_processing_chat drops the block when random() > empty_think_ratio: p(drop) = 1 - ratio
    lm_dataset.post_processing_chat = lambda text, empty_think_ratio=0.2: post(text, empty_think_ratio=1 - a.drop_think_ratio)

    tokenizer = AutoTokenizer.from_pretrained(a.tokenizer)
    lm_config = MiniMindConfig(hidden_size=a.hidden_size, num_hidden_layers=a.num_hidden_layers, use_moe=False)

    def load_model(config=lm_config, weights=a.weights):
        m = MiniMindForCausalLM(config)
        m.load_state_dict(torch.load(weights, map_location='cpu'), strict=True)
        return m.to('cpu')

    model = load_model()
    Dataset = {'pretrain': lm_dataset.PretrainDataset, 'sft': lm_dataset.SFTDataset, 'dpo': lm_dataset.DPODataset, 'distill': lm_dataset.SFTDataset}[a.stage]
    train_ds = Dataset(a.data, tokenizer, max_length=a.max_seq_len)
    assert len(train_ds) >= a.rows, f'{a.data} has {len(train_ds)} rows, fewer than --rows {a.rows}'

    class Recorder:  # stands in for wandb/swanlab: train_epoch calls .log(dict) at every logged step
        def __init__(self):
            self.records = []

        def log(self, d):
            self.records.append({k: float(v) for k, v in d.items() if k != 'epoch_time'})  # epoch_time: a clock reading

    rec = Recorder()
    work = tempfile.mkdtemp(prefix='minimind-fidelity-')
    os.makedirs(os.path.join(work, 'run'))
    mod.args = argparse.Namespace(device='cpu', epochs=a.epochs, learning_rate=a.learning_rate, accumulation_steps=a.accumulation_steps,
                                  grad_clip=a.grad_clip, log_interval=1, save_interval=10 ** 9, save_dir=os.path.join(work, 'out'),
                                  save_weight=a.stage, use_moe=0)
    os.makedirs(mod.args.save_dir)
    mod.lm_config = lm_config
    mod.model = model
    mod.optimizer = torch.optim.AdamW(model.parameters(), lr=a.learning_rate)
    with contextlib.redirect_stderr(open(os.devnull, 'w')):
        mod.scaler = torch.cuda.amp.GradScaler(enabled=False)
    mod.autocast_ctx = contextlib.nullcontext()
    ref_model = None
    if a.stage == 'dpo':
        ref_model = load_model()
        ref_model.eval()
        ref_model.requires_grad_(False)
    teacher = None
    if a.stage == 'distill':  # their __main__: init_model(lm_config_teacher, ...), eval, requires_grad_(False)
        teacher = load_model(MiniMindConfig(hidden_size=a.teacher_hidden_size, num_hidden_layers=a.teacher_num_hidden_layers, use_moe=False), a.teacher_weights)
        teacher.eval()
        teacher.requires_grad_(False)

    cwd = os.getcwd()
    os.chdir(os.path.join(work, 'run'))  # train_epoch saves '../checkpoints' at the end of an epoch
    try:
        with contextlib.redirect_stdout(sys.stderr):
            for epoch in range(a.epochs):
                indices = list(range(a.rows))  # shuffle off (their __main__: torch.randperm)
                loader = DataLoader(train_ds, batch_sampler=SkipBatchSampler(indices, a.batch_size, 0), num_workers=0)
                if a.stage == 'dpo':
                    mod.train_epoch(epoch, loader, len(loader), ref_model, lm_config, 0, rec, a.beta)
                elif a.stage == 'distill':
                    mod.train_epoch(epoch, loader, len(loader), teacher, lm_config, 0, rec, a.alpha, a.temperature)
                else:
                    mod.train_epoch(epoch, loader, len(loader), 0, rec)
    finally:
        os.chdir(cwd)

    print(json.dumps({
        'minimind_script': f'trainer/{script}.py',
        'settings': {k: v for k, v in vars(a).items() if k not in ('minimind', 'weights', 'tokenizer', 'data', 'teacher_weights') and v is not None},
        'torch': torch.__version__,
        # one record per micro-step, as their train_epoch logged it: loss = that micro-batch's loss
        'micro_steps': rec.records,
    }, indent=1))


if __name__ == '__main__':
    main()
