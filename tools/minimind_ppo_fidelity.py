"""MiniMind's own PPO update (trainer/train_ppo.py's ppo_train_epoch) on fixed rollouts, every
minibatch update recorded: the fixture test/train/ppo-fidelity.test.ts compares ours with.

Imports ppo_train_epoch from a MiniMind checkout (--minimind; nothing of it is copied here) and
runs it as its __main__ does (actor, frozen reference and critic from the same weights, AdamW for
actor and critic, CosineAnnealingLR over T_max = iters x epochs x ppo_update_iters x minibatches,
eta_min lr/10), on CPU in fp32, with the parts that sample or need outside models replaced by
fixed data:
  - the rollout engine returns fixed token ids (prompts of one length, so no left padding;
    completions ending with <|im_end|> then pads, or running to the full length); its old
    log-probs are MiniMind's own compute_per_token_logps on the current actor, as its
    TorchRolloutEngine computes them;
  - calculate_rewards returns fixed rewards (its reward model is an outside 1.8B model);
  - torch.randperm (the minibatch order) is recorded, so our run can take the same rows.
The initial weights come from --weights (a .pth written by `minimind export pth --save-dtype fp32`,
loaded strictly), the critic's value head from torch's default init under torch.manual_seed(42).

Every update is read where MiniMind makes it: clip_grad_norm_ is wrapped, and at the actor's
call the wrapper reads ppo_train_epoch's own locals (policy_loss, value_loss, approx_kl_val,
kl_ref_penalty, clipfrac, stop_ppo, inds) and both optimizers' lr; after each optimizer step the
distance of the weights from their start is recorded. Output: one JSON document.

  .venv/bin/python tools/minimind_ppo_fidelity.py --minimind /tmp/minimind --weights init.pth \\
      --tokenizer ../shared/data/minimind-tokenizer/head --hidden_size 64 --num_hidden_layers 2 > ppo.json
"""
import argparse
import contextlib
import importlib
import json
import math
import os
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--minimind', required=True, help='a checkout of jingyaogong/minimind (model/, dataset/, trainer/)')
    p.add_argument('--weights', required=True, help='initial state dict (.pth, fp32)')
    p.add_argument('--tokenizer', required=True)
    p.add_argument('--hidden_size', type=int, required=True)
    p.add_argument('--num_hidden_layers', type=int, required=True)
    p.add_argument('--iters', type=int, default=3, help='RL steps (one fixed rollout each)')
    p.add_argument('--batch_size', type=int, default=4)
    p.add_argument('--prompt_len', type=int, default=6)
    p.add_argument('--max_gen_len', type=int, default=8)
    p.add_argument('--learning_rate', type=float, default=1e-3)
    p.add_argument('--critic_learning_rate', type=float, default=2e-3)
    p.add_argument('--mini_batch_size', type=int, default=2)
    p.add_argument('--ppo_update_iters', type=int, default=2)
    # MiniMind's default is 0.25; 1e-4 makes the early stop fire in this run's step 1 (first epoch) and steps 2-3 (second epoch)
    p.add_argument('--early_stop_kl', type=float, default=1e-4)
    p.add_argument('--clip_epsilon', type=float, default=0.2)
    p.add_argument('--vf_coef', type=float, default=0.5)
    p.add_argument('--kl_coef', type=float, default=0.02)
    p.add_argument('--gamma', type=float, default=1.0)
    p.add_argument('--lam', type=float, default=0.95)
    p.add_argument('--cliprange_value', type=float, default=0.2)
    p.add_argument('--grad_clip', type=float, default=1.0)
    a = p.parse_args()

    sys.path.insert(0, os.path.abspath(a.minimind))
    import torch
    from transformers import AutoTokenizer
    torch.set_num_threads(1)
    from model.model_minimind import MiniMindConfig, MiniMindForCausalLM
    mod = importlib.import_module('trainer.train_ppo')
    from trainer.rollout_engine import RolloutResult, compute_per_token_logps

    tokenizer = AutoTokenizer.from_pretrained(a.tokenizer)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    lm_config = MiniMindConfig(hidden_size=a.hidden_size, num_hidden_layers=a.num_hidden_layers, use_moe=False)
    weights = torch.load(a.weights, map_location='cpu')

    def load(cls, strict=True):
        m = cls(lm_config)
        m.load_state_dict(weights, strict=strict)
        return m

    torch.manual_seed(42)
    actor = load(MiniMindForCausalLM)
    ref = load(MiniMindForCausalLM).eval().requires_grad_(False)
    critic = load(mod.CriticModel, strict=False)  # + value_head, torch's default init (as their __main__)
    value_head = critic.value_head.weight.detach().flatten().tolist() + critic.value_head.bias.detach().tolist()

    # The fixed rollouts: ordinary token ids (no special ones), completions of different lengths
    g = torch.Generator().manual_seed(7)
    B, P, R = a.batch_size, a.prompt_len, a.max_gen_len
    rollouts, rewards = [], []
    for s in range(a.iters):
        prompt = torch.randint(10, lm_config.vocab_size, (B, P), generator=g)
        comp = torch.randint(10, lm_config.vocab_size, (B, R), generator=g)
        for i in range(B):
            n = R if (s + i) % B == 0 else 2 + (3 * s + i) % (R - 2)  # one row per step runs to the length limit
            if n < R:
                comp[i, n - 1] = eos
                comp[i, n:] = pad
        rollouts.append((prompt, comp))
        rewards.append((torch.randn(B, generator=g) * 2).tolist())

    class FixedRollouts:
        step = -1

        def rollout(self, prompt_ids, attention_mask, num_generations, max_new_tokens, temperature=0.8):
            FixedRollouts.step += 1
            prompt, comp = rollouts[FixedRollouts.step]
            out = torch.cat([prompt, comp], dim=1)
            with torch.no_grad():  # what TorchRolloutEngine.rollout does after generate
                logps = compute_per_token_logps(mod.actor_model, out, R, attention_mask=(out != pad).long())
            return RolloutResult(out, comp, logps, tokenizer.batch_decode(comp, skip_special_tokens=True), torch.full((B,), P), torch.ones(B, R, dtype=torch.long))

        def update_policy(self, model):
            pass

    mod.calculate_rewards = lambda prompts, responses, reward_model: torch.tensor(rewards[FixedRollouts.step])

    orders = []
    randperm = torch.randperm

    def recorded_randperm(*args, **kw):
        r = randperm(*args, **kw)
        orders.append(r.tolist())
        return r

    torch.randperm = recorded_randperm

    updates = []
    calls = [0]
    clip = mod.clip_grad_norm_

    def recorded_clip(params, max_norm):
        norm = float(clip(params, max_norm))
        calls[0] += 1
        if calls[0] % 2 == 1:  # the actor's call (the critic's follows)
            f = sys._getframe(1).f_locals
            updates.append({'step': f['step'], 'ppo_epoch': f['ppo_epoch'], 'rows': f['inds'].tolist(),
                            'actor_lr': mod.actor_optimizer.param_groups[0]['lr'], 'critic_lr': mod.critic_optimizer.param_groups[0]['lr'],
                            'policy_loss': f['policy_loss'].item(), 'value_loss': f['value_loss'].item(), 'approx_kl': f['approx_kl_val'].item(),
                            'kl_ref': f['kl_ref_penalty'].item(), 'clipfrac': f['clipfrac'].item(), 'stopped': bool(f['stop_ppo']), 'actor_grad_norm': norm})
        else:
            updates[-1]['critic_grad_norm'] = norm
        return norm

    mod.clip_grad_norm_ = recorded_clip

    def distance_hook(model, key):
        start = [t.detach().clone().double() for t in model.parameters()]

        def hook(opt, args, kwargs):
            updates[-1][key] = math.sqrt(sum(((t.detach().double() - s) ** 2).sum().item() for t, s in zip(model.parameters(), start)))
        return hook

    class Recorder:  # stands in for wandb
        def __init__(self):
            self.records = []

        def log(self, d):
            self.records.append({k: float(v) for k, v in d.items()})

    rec = Recorder()
    mod.args = argparse.Namespace(device='cpu', epochs=1, accumulation_steps=1, save_interval=10 ** 9, debug_mode=False, debug_log_ratio=False,
                                  max_seq_len=64, max_gen_len=R, save_dir=None, save_weight='ppo_actor', **{k: getattr(a, k) for k in ('grad_clip', 'mini_batch_size', 'ppo_update_iters', 'early_stop_kl', 'clip_epsilon',
                                                                                                  'vf_coef', 'kl_coef', 'gamma', 'lam', 'cliprange_value')})
    mod.tokenizer, mod.lm_config, mod.actor_model, mod.critic_model = tokenizer, lm_config, actor, critic
    mod.autocast_ctx = contextlib.nullcontext()
    # their __main__, from "actor_optimizer = ..." on
    mod.actor_optimizer = torch.optim.AdamW(actor.parameters(), lr=a.learning_rate)
    mod.critic_optimizer = torch.optim.AdamW(critic.parameters(), lr=a.critic_learning_rate)
    mod.actor_optimizer.register_step_post_hook(distance_hook(actor, 'actor_distance'))
    mod.critic_optimizer.register_step_post_hook(distance_hook(critic, 'critic_distance'))
    iters = a.iters
    mb_factor = max(1, math.ceil(a.batch_size / a.mini_batch_size))
    total_optimizer_steps = math.ceil(iters * 1 * a.ppo_update_iters * mb_factor / 1)
    actor_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(mod.actor_optimizer, T_max=total_optimizer_steps, eta_min=a.learning_rate / 10)
    critic_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(mod.critic_optimizer, T_max=total_optimizer_steps, eta_min=a.critic_learning_rate / 10)

    loader = [{'prompt': ['fixed rollout'] * B} for _ in range(iters)]  # only tokenized for the (replaced) rollout engine
    work = tempfile.mkdtemp(prefix='minimind-ppo-fidelity-')
    mod.args.save_dir = os.path.join(work, 'out')
    os.makedirs(mod.args.save_dir)
    os.makedirs(os.path.join(work, 'run'))
    cwd = os.getcwd()
    os.chdir(os.path.join(work, 'run'))  # the last step saves '../checkpoints'
    try:
        with contextlib.redirect_stdout(sys.stderr):
            mod.ppo_train_epoch(0, loader, iters, FixedRollouts(), ref, actor_scheduler, critic_scheduler, None, 0, rec)
    finally:
        os.chdir(cwd)

    print(json.dumps({
        'minimind_script': 'trainer/train_ppo.py',
        'settings': {k: v for k, v in vars(a).items() if k not in ('minimind', 'weights', 'tokenizer')},
        'torch': torch.__version__,
        'T_max': total_optimizer_steps,
        'value_head': value_head,  # at the start: [weight | bias]
        'rollouts': [{'prompt_ids': pr.tolist(), 'completion_ids': c.tolist(), 'rewards': r} for (pr, c), r in zip(rollouts, rewards)],
        'minibatch_orders': orders,
        'updates': updates,
        'steps': rec.records,
    }, indent=1))


if __name__ == '__main__':
    main()
