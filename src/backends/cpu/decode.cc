// The fused batch-1 decode step (see decode.h). It calls the very kernels the generic path reaches
// through ~100 N-API calls a token (rmsnorm_forward, the packed GEMVs, rope_forward,
// attention_forward, swiglu_forward), with the same inputs, so the logits are bit for bit the
// generic path's (test/backends/cpu-decode.test.ts); what it saves is everything around them: the
// JS engine, the tensor allocations, and thread hand-offs. Matrices that read the same input share
// one hand-off to the thread pool: q, k and v (one q8 quantisation of the input, their columns
// split over the threads as one), gate and up (with SwiGLU on each thread's own columns); o_proj and
// down_proj add into the residual stream directly (accumulate: x + W a, the generic path's add).
#include "decode.h"
#include "gemm.h"
#include "gemv.h"
#include "kernels.h"

namespace mm {

namespace {

// out (N) (+)= W x for one weight, on the path the backend's matmul takes for one row:
// fp32 -> gemv_f32 (sgemm's route for few rows on AVX-512) or sgemm below AVX-512; bf16 / q8 -> the
// packed GEMV. A job is one weight and its output.
struct Job {
  const DecodeWeight* w;
  float* out;
};

// One range of a job's output columns. q8 reads the input prepared once (in).
void job_columns(const Job& jb, const float* x, const Q8Input& in, i64 j0, i64 j1, bool acc) {
  const DecodeWeight& w = *jb.w;
  switch (w.fmt) {
    case DecodeWeight::Q8: q8_columns(jb.out, w.N, in, w.q, w.s, j0, j1, acc); break;
    case DecodeWeight::BF16: bf16_columns(jb.out, w.N, x, 1, w.b, j0, j1, w.K, acc); break;
    default: f32_columns(jb.out, w.N, x, 1, w.f, j0, j1, w.K, acc); break;
  }
}

// Whether the job runs inside a column split (else alone through sgemm, as the backend's matmul).
bool splittable(const DecodeWeight& w) {
  if (w.fmt != DecodeWeight::F32) return true;
  // sgemm sends one fp32 row to gemv_f32 from AVX-512 up (and N * K >= 4096); sgemm_bf16 does too
  return current_isa() >= ISA_AVX512 && (double)w.N * w.K >= 4096;
}

// Every job's W x, all over the same input x (K floats): the columns of all jobs, in blocks of 16
// rows of W, split into one contiguous range per thread (as split_columns does for one matrix).
// pair_swiglu: jobs[0] and jobs[1] are gate and up (same N); each range also writes
// act = silu(gate) * up for its columns.
void run_jobs(const Job* jobs, int n, const float* x, i64 K, bool acc, float* pair_act = nullptr) {
  Q8Input in;
  bool need_q8 = false;
  double weights = 0;
  i64 blocks = 0;
  for (int i = 0; i < n; i++) {
    need_q8 |= jobs[i].w->fmt == DecodeWeight::Q8;
    if (!splittable(*jobs[i].w)) {
      const DecodeWeight& w = *jobs[i].w;
      sgemm(false, true, 1, w.N, K, x, K, w.f, K, jobs[i].out, w.N, acc, num_threads());
      continue;
    }
    weights += (double)jobs[i].w->N * K;
    blocks += (jobs[i].w->N + 15) / 16;
  }
  if (need_q8) in = q8_prepare(x, 1, K);
  // the column range [b0, b1) of blocks, over the jobs in order
  auto range = [&](i64 b0, i64 b1) {
    i64 base = 0;
    for (int i = 0; i < n && b0 < b1; i++) {
      if (!splittable(*jobs[i].w)) continue;
      const i64 N = jobs[i].w->N, nb = (N + 15) / 16;
      const i64 s = std::max(b0, base), e = std::min(b1, base + nb);
      if (s < e) job_columns(jobs[i], x, in, (s - base) * 16, std::min(N, (e - base) * 16), acc);
      base += nb;
    }
  };
  auto pair = [&](i64 b0, i64 b1) {
    const i64 N = jobs[0].w->N, j0 = std::min(N, b0 * 16), j1 = std::min(N, b1 * 16);
    if (j0 >= j1) return;
    job_columns(jobs[0], x, in, j0, j1, acc);
    job_columns(jobs[1], x, in, j0, j1, acc);
    swiglu_forward(pair_act + j0, jobs[0].out + j0, jobs[1].out + j0, j1 - j0);
  };
  if (pair_act) blocks = (jobs[0].w->N + 15) / 16;
  if (blocks == 0) return;
  const int nt = (int)std::min<double>(num_threads(), std::max(1.0, weights / (1 << 16)));
  if (nt <= 1) {
    pair_act ? pair(0, blocks) : range(0, blocks);
    return;
  }
  parallel_tasks(nt, nt, [&](i64 t) {
    const i64 b0 = blocks * t / nt, b1 = blocks * (t + 1) / nt;
    pair_act ? pair(b0, b1) : range(b0, b1);
  });
}

}  // namespace

Decoder::Decoder(DecodeModel m) : m_(std::move(m)) {
  const i64 d = m_.hidden, qd = m_.heads * m_.head_dim, kvd = m_.kv_heads * m_.head_dim, f = m_.ffn;
  const i64 sizes[] = {d, d, qd, kvd, kvd, qd, kvd, qd, m_.heads, std::max(m_.heads, (i64)1), f, f, f};
  i64 total = 0;
  for (i64 s : sizes) total += (s + 15) / 16 * 16;  // each buffer on its own 64-byte line
  work_.assign((size_t)total + 16, 0.f);
  float* p = work_.data() + (16 - ((uintptr_t)work_.data() / 4) % 16) % 16;
  float** slots[] = {&x_, &xn_, &q_, &k_, &v_, &qr_, &kr_, &att_, &lse_, &rstd_, &gate_, &up_, &act_};
  for (int i = 0; i < 13; i++) {
    *slots[i] = p;
    p += (sizes[i] + 15) / 16 * 16;
  }
}

void Decoder::step(int32_t token, i64 pos, float* logits) {
  const i64 d = m_.hidden, H = m_.heads, KVH = m_.kv_heads, D = m_.head_dim, kvd = KVH * D;
  const float scale = (float)(1.0 / std::sqrt((double)D));  // ops.attention's 1 / Math.sqrt(D)
  embedding_forward(x_, &token, m_.embed, 1, d);
  for (const DecodeLayer& l : m_.layers) {
    // attention block: x += o_proj(attention(rope(q), rope(k), v))
    rmsnorm_forward(xn_, rstd_, x_, l.input_norm, 1, d, m_.eps);
    const Job qkv[] = {{&l.wq, q_}, {&l.wk, k_}, {&l.wv, v_}};
    run_jobs(qkv, 3, xn_, d, false);
    const float* q = q_;
    const float* k = k_;
    if (l.q_norm) {  // RMSNorm over head_dim, one weight for every head (into qr_ / kr_, then rope in place of q_ / k_)
      rmsnorm_forward(qr_, rstd_, q_, l.q_norm, H, D, m_.eps);
      rmsnorm_forward(kr_, rstd_, k_, l.k_norm, KVH, D, m_.eps);
      rope_forward(q_, qr_, m_.cos, m_.sin, 1, 1, H, D, pos, m_.interleaved);
      rope_forward(k_, kr_, m_.cos, m_.sin, 1, 1, KVH, D, pos, m_.interleaved);
    } else {
      rope_forward(qr_, q_, m_.cos, m_.sin, 1, 1, H, D, pos, m_.interleaved);
      rope_forward(kr_, k_, m_.cos, m_.sin, 1, 1, KVH, D, pos, m_.interleaved);
      q = qr_;
      k = kr_;
    }
    std::memcpy(l.k_cache + pos * kvd, k, sizeof(float) * kvd);
    std::memcpy(l.v_cache + pos * kvd, v_, sizeof(float) * kvd);
    attention_forward(att_, lse_, q, l.k_cache, l.v_cache, 1, 1, pos + 1, m_.capacity, H, KVH, D, scale);
    const Job o[] = {{&l.wo, x_}};
    run_jobs(o, 1, att_, H * D, true);
    // feed-forward block: x += down(silu(gate(n)) * up(n))
    rmsnorm_forward(xn_, rstd_, x_, l.post_norm, 1, d, m_.eps);
    const Job gu[] = {{&l.gate, gate_}, {&l.up, up_}};
    if (splittable(l.gate) && splittable(l.up)) {
      run_jobs(gu, 2, xn_, d, false, act_);
    } else {
      run_jobs(gu, 2, xn_, d, false);
      swiglu_forward(act_, gate_, up_, m_.ffn);
    }
    const Job down[] = {{&l.down, x_}};
    run_jobs(down, 1, act_, m_.ffn, true);
  }
  rmsnorm_forward(xn_, rstd_, x_, m_.final_norm, 1, d, m_.eps);
  const Job head[] = {{&m_.lm_head, logits}};
  run_jobs(head, 1, xn_, d, false);
}

}  // namespace mm
