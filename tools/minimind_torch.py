"""A faithful PyTorch port of MiniMind's model (docs/minimind.md 1), used to write
the parity fixtures in test/fixtures/. One class covers every era:

  v1           16q/8kv-style GQA, theta 1e4, eps 1e-5, FFN 64*ceil(int(8d/3)/64)
  v1-moe       + DeepSeek-style MoE: routed experts + 1 shared, softmax gate, top-2, norm_topk_prob,
               sequence-level aux loss scaled by aux_loss_alpha
  minimind2    8q/2kv-style GQA, theta 1e6, eps 1e-5
  minimind3    + QK-norm (RMSNorm over head_dim, shared across heads), eps 1e-6, FFN ceil(pi*d/64)*64
  minimind3-moe  Qwen3-MoE style: experts only (no shared), top-1, switch-style aux with router_aux_loss_coef

Parameters carry Hugging Face names (model.layers.0.self_attn.q_proj.weight, ...); lm_head is tied to
model.embed_tokens.weight (the logits use the embedding matrix, so there is one parameter).
RoPE is rotate-half by default (weights in rotate-half layout); `rope_interleaved=True` selects the
original v1 / m2-legacy interleaved-pair RoPE, and `v1_state_dict()` gives the v1 key names.

The model runs in whatever dtype its parameters have; the fixture generators use float64.
"""

import math
import torch
import torch.nn.functional as F
from torch import nn


def ffn_size_v1(d):
    """v1 / m2: multiple_of * ((int(2 * 4d / 3) + 63) // 64) with multiple_of = 64."""
    return 64 * ((int(2 * 4 * d / 3) + 63) // 64)


def ffn_size_v3(d):
    """minimind-3: ceil(d * pi / 64) * 64."""
    return math.ceil(d * math.pi / 64) * 64


def default_config(**kw):
    cfg = dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=4,
        intermediate_size=None, vocab_size=256, rms_norm_eps=1e-5, rope_theta=1e4,
        max_position_embeddings=64, tie_word_embeddings=True, hidden_act='silu',
        use_moe=False, num_experts_per_tok=2, n_routed_experts=4, n_shared_experts=0,
        norm_topk_prob=True, moe_style='deepseek', aux_loss_alpha=0.0, router_aux_loss_coef=0.0,
        seq_aux=True, qk_norm=False, rope_interleaved=False,
    )
    cfg.update(kw)
    cfg['head_dim'] = cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']
    if cfg['intermediate_size'] is None:
        cfg['intermediate_size'] = ffn_size_v3(cfg['hidden_size']) if cfg['qk_norm'] else ffn_size_v1(cfg['hidden_size'])
    return cfg


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # x * rsqrt(mean(x^2) + eps) * w; the fp32 upcast of the original is a no-op in float64.
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope_tables(head_dim, end, theta):
    """cos/sin of angles pos * f_i, f_i = theta^(-2i/hd); frequencies and angles in float32 exactly as
    MiniMind computes them, cos/sin then taken in float64. Shapes (end, hd/2)."""
    freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim))
    t = torch.arange(end)
    angles = torch.outer(t, freqs).float()
    return torch.cos(angles.double()), torch.sin(angles.double())


def apply_rope(x, cos, sin, interleaved):
    """x: (B, T, H, hd); cos/sin: (T, hd/2)."""
    cos = cos[None, :, None, :].to(x.dtype)
    sin = sin[None, :, None, :].to(x.dtype)
    if interleaved:
        # v1: pairs (x[2i], x[2i+1]) rotated as a complex number by e^{j*angle_i}.
        xe, xo = x[..., 0::2], x[..., 1::2]
        oe = xe * cos - xo * sin
        oo = xe * sin + xo * cos
        return torch.stack([oe, oo], dim=-1).flatten(-2)
    # rotate_half: pairs (x[i], x[i + hd/2]); out = x*cos + rotate_half(x)*sin with duplicated tables.
    c = torch.cat([cos, cos], dim=-1)
    s = torch.cat([sin, sin], dim=-1)
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * c + rot * s


def repeat_kv(x, n_rep):
    """(B, T, KV, hd) -> (B, T, KV*n_rep, hd); query head h uses kv head h // n_rep."""
    if n_rep == 1:
        return x
    b, t, kv, hd = x.shape
    return x[:, :, :, None, :].expand(b, t, kv, n_rep, hd).reshape(b, t, kv * n_rep, hd)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, H, KV, hd = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
        self.H, self.KV, self.hd = H, KV, hd
        self.interleaved = cfg['rope_interleaved']
        self.q_proj = nn.Linear(d, H * hd, bias=False)
        self.k_proj = nn.Linear(d, KV * hd, bias=False)
        self.v_proj = nn.Linear(d, KV * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, d, bias=False)
        self.qk_norm = cfg['qk_norm']
        if self.qk_norm:
            self.q_norm = RMSNorm(hd, cfg['rms_norm_eps'])
            self.k_norm = RMSNorm(hd, cfg['rms_norm_eps'])

    def forward(self, x, cos, sin, past=None):
        # x: (B, T, d); cos/sin: (T, hd/2) for the positions of x; past: (k, v) each (B, Tp, KV, hd), post-RoPE.
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd)
        k = self.k_proj(x).view(B, T, self.KV, self.hd)
        v = self.v_proj(x).view(B, T, self.KV, self.hd)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q = apply_rope(q, cos, sin, self.interleaved)
        k = apply_rope(k, cos, sin, self.interleaved)
        if past is not None:
            k = torch.cat([past[0], k], dim=1)
            v = torch.cat([past[1], v], dim=1)
        present = (k, v)
        n_rep = self.H // self.KV
        qh = q.transpose(1, 2)                          # (B, H, T, hd)
        kh = repeat_kv(k, n_rep).transpose(1, 2)        # (B, H, S, hd)
        vh = repeat_kv(v, n_rep).transpose(1, 2)
        S = kh.shape[2]
        scores = (qh @ kh.transpose(-2, -1)) / math.sqrt(self.hd)   # (B, H, T, S)
        # causal over the last T key columns (the new positions); cached keys are all visible
        mask = torch.full((T, T), float('-inf'), dtype=scores.dtype).triu(1)
        scores[:, :, :, S - T:] = scores[:, :, :, S - T:] + mask
        out = F.softmax(scores, dim=-1) @ vh            # (B, H, T, hd)
        out = out.transpose(1, 2).reshape(B, T, self.H * self.hd)
        return self.o_proj(out), present


class FeedForward(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DeepSeekGate(nn.Module):
    """v1 / m2 MoEGate: only a weight (E, d), key `mlp.gate.weight`."""

    def __init__(self, d, E):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(E, d))


class MoE(nn.Module):
    """Both MoE styles. Dense dispatch (every expert on every token, weight 0 where not routed) is
    mathematically identical to MiniMind's gather/scatter dispatch, gradients included."""

    def __init__(self, cfg):
        super().__init__()
        d, f, E = cfg['hidden_size'], cfg['intermediate_size'], cfg['n_routed_experts']
        self.style = cfg['moe_style']
        self.E, self.k = E, cfg['num_experts_per_tok']
        self.norm_topk_prob = cfg['norm_topk_prob']
        self.seq_aux = cfg['seq_aux']
        if self.style == 'deepseek':
            self.gate = DeepSeekGate(d, E)
            self.alpha = cfg['aux_loss_alpha']
        elif self.style == 'qwen3':
            self.gate = nn.Linear(d, E, bias=False)
            self.alpha = cfg['router_aux_loss_coef']
        else:
            raise ValueError(f"unknown moe_style {self.style}")
        self.experts = nn.ModuleList([FeedForward(d, f) for _ in range(E)])
        n_shared = cfg['n_shared_experts'] if self.style == 'deepseek' else 0
        if n_shared:
            self.shared_experts = nn.ModuleList([FeedForward(d, f) for _ in range(n_shared)])
        self.last_topk_margin = math.inf

    def forward(self, x, training):
        B, T, d = x.shape
        xf = x.reshape(-1, d)                                   # (N, d)
        scores = F.softmax(xf @ self.gate.weight.t(), dim=-1)   # (N, E)
        topk_w, topk_idx = torch.topk(scores, k=self.k, dim=-1, sorted=False)
        # routing margin (k-th best minus (k+1)-th best score): the generator keeps it far from float32 noise
        srt = torch.sort(scores.detach(), dim=-1, descending=True).values
        self.last_topk_margin = min(self.last_topk_margin, float((srt[:, self.k - 1] - srt[:, self.k]).min()))
        if self.norm_topk_prob and (self.k > 1 or self.style == 'qwen3'):
            topk_w = topk_w / (topk_w.sum(dim=-1, keepdim=True) + 1e-20)
        w = torch.zeros_like(scores).scatter(1, topk_idx, topk_w)  # (N, E), 0 where not routed
        y = torch.zeros_like(xf)
        for e, expert in enumerate(self.experts):
            y = y + expert(xf) * w[:, e:e + 1]
        if hasattr(self, 'shared_experts'):
            for se in self.shared_experts:
                y = y + se(xf)
        aux = scores.new_zeros(())
        if training and self.alpha > 0:
            if self.style == 'deepseek':
                if self.seq_aux:
                    s_seq = scores.view(B, T, self.E)
                    ce = torch.zeros(B, self.E, dtype=scores.dtype)
                    ce.scatter_add_(1, topk_idx.view(B, -1), torch.ones(B, T * self.k, dtype=scores.dtype))
                    ce = ce / (T * self.k / self.E)
                    aux = (ce * s_seq.mean(dim=1)).sum(dim=1).mean() * self.alpha
                else:
                    mask_ce = F.one_hot(topk_idx.view(-1), num_classes=self.E).to(scores.dtype)
                    fi = mask_ce.mean(0) * self.E
                    aux = (scores.mean(0) * fi).sum() * self.alpha
            else:
                load = F.one_hot(topk_idx, self.E).to(scores.dtype).mean(0)   # (k, E)
                aux = (load * scores.mean(0)).sum() * self.E * self.alpha
        return y.view(B, T, d), aux


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.input_layernorm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])
        self.mlp = MoE(cfg) if cfg['use_moe'] else FeedForward(cfg['hidden_size'], cfg['intermediate_size'])

    def forward(self, x, cos, sin, past, training):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, past)
        h = x + a
        n = self.post_attention_layernorm(h)
        if isinstance(self.mlp, MoE):
            out, aux = self.mlp(n, training)
        else:
            out, aux = self.mlp(n), None
        return h + out, present, aux


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg['num_hidden_layers'])])
        self.norm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])


class MiniMind(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        cos, sin = rope_tables(cfg['head_dim'], cfg['max_position_embeddings'], cfg['rope_theta'])
        self.register_buffer('rope_cos', cos, persistent=False)
        self.register_buffer('rope_sin', sin, persistent=False)

    def forward(self, input_ids, past=None, training=True):
        """input_ids: (B, T) long. Returns logits (B, T, V), aux loss (summed over MoE layers), new past."""
        B, T = input_ids.shape
        start = past[0][0].shape[1] if past is not None else 0
        cos = self.rope_cos[start:start + T]
        sin = self.rope_sin[start:start + T]
        x = self.model.embed_tokens(input_ids)
        aux_total = x.new_zeros(())
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, present, aux = layer(x, cos, sin, past[i] if past is not None else None, training)
            presents.append(present)
            if aux is not None:
                aux_total = aux_total + aux
        x = self.model.norm(x)
        logits = x @ self.model.embed_tokens.weight.t()   # tied lm_head
        return logits, aux_total, presents

    @staticmethod
    def lm_loss(logits, labels):
        """HF shift: logits[:, :-1] predict labels[:, 1:]; mean over labels != -100."""
        x = logits[:, :-1, :].reshape(-1, logits.shape[-1])
        y = labels[:, 1:].reshape(-1)
        return F.cross_entropy(x, y, ignore_index=-100)

    @torch.no_grad()
    def greedy(self, prompt, n_new, use_cache=True):
        """prompt: (1, P) long. Greedy decode n_new tokens (no eos stop). Returns (ids (n_new,), min top1-top2 logit margin)."""
        ids = prompt.clone()
        past = None
        out = []
        margin = math.inf
        for _ in range(n_new):
            if use_cache:
                logits, _, past = self.forward(ids if past is None else ids[:, -1:], past, training=False)
            else:
                logits, _, _ = self.forward(ids, None, training=False)
            last = logits[0, -1]
            top2 = torch.topk(last, 2).values
            margin = min(margin, float(top2[0] - top2[1]))
            nxt = int(torch.argmax(last))
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]], dtype=ids.dtype)], dim=1)
        return torch.tensor(out), margin

    def hf_state_dict(self):
        """Parameters under HF names (lm_head.weight omitted: tied)."""
        return {k: v for k, v in self.state_dict().items()}

    def v1_state_dict(self):
        """The same tensors under v1 / m2-legacy key names (Transformer / MiniMindLM), with output.weight tied."""
        out = {}
        for k, v in self.state_dict().items():
            out[hf_to_v1_name(k)] = v
        out['output.weight'] = out['tok_embeddings.weight']
        return out


_V1_FFN = {'gate_proj': 'w1', 'down_proj': 'w2', 'up_proj': 'w3'}
_V1_ATTN = {'q_proj': 'wq', 'k_proj': 'wk', 'v_proj': 'wv', 'o_proj': 'wo'}


def hf_to_v1_name(k):
    if k == 'model.embed_tokens.weight':
        return 'tok_embeddings.weight'
    if k == 'model.norm.weight':
        return 'norm.weight'
    p = k.split('.')
    assert p[0] == 'model' and p[1] == 'layers', k
    i, rest = p[2], p[3:]
    if rest[0] == 'self_attn':
        if rest[1] in ('q_norm', 'k_norm'):
            raise ValueError('v1 has no QK-norm')
        return f'layers.{i}.attention.{_V1_ATTN[rest[1]]}.weight'
    if rest[0] == 'input_layernorm':
        return f'layers.{i}.attention_norm.weight'
    if rest[0] == 'post_attention_layernorm':
        return f'layers.{i}.ffn_norm.weight'
    assert rest[0] == 'mlp', k
    if rest[1] in _V1_FFN:
        return f'layers.{i}.feed_forward.{_V1_FFN[rest[1]]}.weight'
    if rest[1] == 'gate':
        return f'layers.{i}.feed_forward.gate.weight'
    if rest[1] == 'experts':
        return f'layers.{i}.feed_forward.experts.{rest[2]}.{_V1_FFN[rest[3]]}.weight'
    if rest[1] == 'shared_experts':
        # v1 / m2-legacy have a single FeedForward (no ModuleList index)
        return f'layers.{i}.feed_forward.shared_experts.{_V1_FFN[rest[3]]}.weight'
    raise ValueError(k)


def interleaved_to_rotate_half_rows(w, n_heads, head_dim):
    """Permute q/k projection rows from interleaved-pair RoPE layout to rotate-half layout, per head:
    new row j < hd/2 <- old row 2j; new row hd/2 + j <- old row 2j + 1."""
    idx = []
    for h in range(n_heads):
        base = h * head_dim
        idx += [base + 2 * j for j in range(head_dim // 2)] + [base + 2 * j + 1 for j in range(head_dim // 2)]
    return w[torch.tensor(idx)]


def init_weights(model, seed):
    """Deterministic random init that keeps activations O(1) so every path matters in the fixtures:
    Linear N(0, 1/sqrt(fan_in)), embedding N(0, 0.3), every RMSNorm weight 1 + N(0, 0.1).
    Values are drawn in float32 (what the fixtures store) whatever the model dtype."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight') or name.endswith('layernorm.weight'):
                v = 1.0 + 0.1 * torch.randn(p.shape, generator=g)
            elif name == 'model.embed_tokens.weight':
                v = 0.3 * torch.randn(p.shape, generator=g)
            else:
                v = torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1])
            p.copy_(v.float().to(p.dtype))
