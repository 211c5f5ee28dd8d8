"""RL loss fixtures: MiniMind HEAD's own loss expressions (copied from trainer/train_grpo.py and
trainer/train_ppo.py) and TRL 1.13's GRPOTrainer._compute_loss, run with torch autograd on the same
random tensors. Writes test/fixtures/rl-losses.json (inputs, losses, gradients).

    .venv/bin/python tools/gen_rl_fixtures.py      # needs torch and trl==1.13 (pip install trl)
"""
import json
from collections import defaultdict
from types import SimpleNamespace

import torch
import trl
from trl import GRPOTrainer

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
R, T, G = 6, 7, 3
logp0 = -torch.rand(R, T) * 3 - 0.05
old = logp0 + torch.randn(R, T) * 0.3  # ratios spread across the clip range
ref = logp0 + torch.randn(R, T) * 0.2
old[1, 2] = logp0[1, 2]  # a ratio of exactly 1
mask = (torch.rand(R, T) > 0.25).double()
mask[4] = 0  # a row with no trained token
rewards = torch.tensor([1.0, 0.0, 0.5, -0.5, 2.0, 2.0])
out = {"trl_version": trl.__version__, "torch_version": torch.__version__, "R": R, "T": T, "G": G,
       "logp": logp0.flatten().tolist(), "old": old.flatten().tolist(), "ref": ref.flatten().tolist(),
       "mask": mask.flatten().tolist(), "rewards": rewards.tolist()}

# ---- MiniMind train_grpo.py ----
grouped = rewards.view(-1, G)
mean_r = grouped.mean(dim=1).repeat_interleave(G)
std_r = grouped.std(dim=1, unbiased=False).repeat_interleave(G)
advantages = (rewards - mean_r) / (std_r + 1e-4)
out["advantages"] = advantages.tolist()
beta, epsilon, epsilon_high = 0.1, 0.2, 5.0
for loss_type in ["grpo", "cispo"]:
    per_token_logps = logp0.clone().requires_grad_(True)
    kl_div = ref - per_token_logps
    per_token_kl = torch.exp(kl_div) - kl_div - 1
    ratio = torch.exp(per_token_logps - old)
    if loss_type == "cispo":
        clamped_ratio = torch.clamp(ratio, max=epsilon_high).detach()
        per_token_loss = -(clamped_ratio * advantages.unsqueeze(1) * per_token_logps - beta * per_token_kl)
    else:
        clipped_ratio = torch.clamp(ratio, 1 - epsilon, 1 + epsilon)
        per_token_loss1 = ratio * advantages.unsqueeze(1)
        per_token_loss2 = clipped_ratio * advantages.unsqueeze(1)
        per_token_loss = -(torch.min(per_token_loss1, per_token_loss2) - beta * per_token_kl)
    policy_loss = ((per_token_loss * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).mean()
    policy_loss.backward()
    out[f"minimind_{loss_type}"] = {"loss": policy_loss.item(), "grad": per_token_logps.grad.flatten().tolist(),
                                    "per_token": per_token_loss.detach().flatten().tolist()}


# ---- TRL GRPOTrainer._compute_loss on the same tensors ----
class FakeAccelerator:
    num_processes = 1
    sync_gradients = True
    def gather(self, x): return x
    def gather_for_metrics(self, x): return x
    def reduce(self, x, reduction="sum"): return x


def trl_loss(loss_type, eps_low, eps_high):
    tr = GRPOTrainer.__new__(GRPOTrainer)
    lp = logp0.clone().requires_grad_(True)
    tr._get_per_token_logps_and_entropies = lambda *a, **k: (lp, torch.zeros(R, T), None)
    tr.aux_loss_enabled = False
    tr.top_entropy_quantile = 1.0
    tr.off_policy_mask_threshold = None
    tr.importance_sampling_level = "token"
    tr.beta = beta
    tr.args = SimpleNamespace(use_bias_correction_kl=False, delta=None)
    tr.loss_type = loss_type
    tr.epsilon_low, tr.epsilon_high = eps_low, eps_high
    tr.use_vllm = False
    tr.model = SimpleNamespace(training=True)
    tr.current_gradient_accumulation_steps = 1
    tr.accelerator = FakeAccelerator()
    tr._entropy_bonus_enabled = False
    tr._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    tr.args.steps_per_generation = 1
    inputs = {"prompt_ids": torch.zeros(R, 1, dtype=torch.long), "prompt_mask": torch.ones(R, 1, dtype=torch.long),
              "completion_ids": torch.zeros(R, T, dtype=torch.long), "completion_mask": mask,
              "advantages": advantages, "old_per_token_logps": old, "ref_per_token_logps": ref,
              "num_items_in_batch": mask.sum()}
    loss = tr._compute_loss(None, inputs)
    loss.backward()
    return {"loss": loss.item(), "grad": lp.grad.flatten().tolist(), "metrics": {k: v[-1] for k, v in tr._metrics["train"].items()}}


out["trl_grpo"] = trl_loss("grpo", epsilon, epsilon)
out["trl_cispo"] = trl_loss("cispo", epsilon, epsilon_high)  # TRL normalises CISPO by the token count

# ---- MiniMind train_ppo.py (one minibatch = the whole batch) ----
gamma, lam, clip_epsilon, kl_coef, cliprange_value = 1.0, 0.95, 0.2, 0.02, 0.2
resp_policy_mask = mask.clone()
resp_policy_mask[4] = 1  # PPO rows always hold at least one token (resp_lengths.clamp(min=1))
resp_policy_mask[4, 3:] = 0
resp_value_mask = resp_policy_mask.clone()
values_raw = torch.randn(R, T) * 0.5
old_resp_values = values_raw * resp_value_mask
# the scalar reward on each row's last response token
token_rewards = torch.zeros(R, T)
last_idx = (resp_policy_mask * torch.arange(T)).argmax(dim=1)
token_rewards[torch.arange(R), last_idx] += rewards
gen_len = old_resp_values.size(1); lastgaelam = torch.zeros(R); advs_rev = []
for t in reversed(range(gen_len)):
    nv = old_resp_values[:, t + 1] if t < gen_len - 1 else 0.0
    delta = token_rewards[:, t] + gamma * nv - old_resp_values[:, t]
    lastgaelam = delta + gamma * lam * lastgaelam
    advs_rev.append(lastgaelam)
gae_adv = torch.stack(advs_rev[::-1], dim=1)
returns = gae_adv + old_resp_values
adv_mean = (gae_adv * resp_policy_mask).sum() / resp_policy_mask.sum().clamp(min=1)
adv_var = ((gae_adv - adv_mean) ** 2 * resp_policy_mask).sum() / resp_policy_mask.sum().clamp(min=1)
ppo_adv = (gae_adv - adv_mean) * torch.rsqrt(adv_var + 1e-8) * resp_policy_mask

mb_resp_logp = logp0.clone().requires_grad_(True)
log_ratio = mb_resp_logp - old
approx_kl = (0.5 * (log_ratio ** 2) * resp_policy_mask).sum() / resp_policy_mask.sum().clamp(min=1)
ratio = torch.exp(log_ratio)
kl_ref_penalty = ((torch.exp(ref - mb_resp_logp) - (ref - mb_resp_logp) - 1.0) * resp_policy_mask).sum() / resp_policy_mask.sum().clamp(min=1)
policy_loss = ((torch.max(-ppo_adv * ratio, -ppo_adv * torch.clamp(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon))
                * resp_policy_mask).sum() / resp_policy_mask.sum().clamp(min=1) + kl_coef * kl_ref_penalty)
policy_loss.backward()
mb_resp_values = (old_resp_values + torch.randn(R, T) * 0.3).requires_grad_(True)
value_loss = 0.5 * (torch.max((mb_resp_values - returns) ** 2,
                              (torch.clamp(mb_resp_values, old_resp_values - cliprange_value, old_resp_values + cliprange_value) - returns) ** 2)
                    * resp_value_mask).sum() / resp_value_mask.sum().clamp(min=1)
value_loss.backward()
out["ppo"] = {"mask": resp_policy_mask.flatten().tolist(), "values_raw": values_raw.flatten().tolist(),
              "token_rewards": token_rewards.flatten().tolist(), "gae_advantages": gae_adv.flatten().tolist(),
              "returns": returns.flatten().tolist(), "advantages": ppo_adv.flatten().tolist(),
              "approx_kl": approx_kl.item(), "policy_loss": policy_loss.item(), "policy_grad": mb_resp_logp.grad.flatten().tolist(),
              "values": mb_resp_values.detach().flatten().tolist(), "old_values": old_resp_values.flatten().tolist(),
              "value_loss": value_loss.item(), "value_grad": mb_resp_values.grad.flatten().tolist(),
              "gamma": gamma, "lam": lam, "clip_epsilon": clip_epsilon, "kl_coef": kl_coef, "cliprange_value": cliprange_value}

with open("test/fixtures/rl-losses.json", "w") as f:
    json.dump(out, f)
print("wrote test/fixtures/rl-losses.json", {k: out[k]["loss"] for k in ["minimind_grpo", "trl_grpo", "minimind_cispo", "trl_cispo"]})
