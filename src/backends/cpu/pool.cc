// The thread pool behind every parallel kernel. Why not OpenMP: on a shared machine a worker
// thread is often descheduled for a whole time slice, and an OpenMP region (with its closing
// barrier) then waits for it, milliseconds per kernel call. Here a job is a list of tasks claimed
// through one atomic counter; the calling thread claims tasks too and waits only for tasks that
// another thread has actually started, so a late worker simply finds nothing left to do.
//
// The counter packs (job generation, task count, next task) into 64 bits, so a worker that wakes
// up late can never claim a task of a newer job with the state of an older one. Idle workers spin
// briefly (kernel calls come back to back during a training step), then sleep on a condition variable.
#include "common.h"
#include <atomic>
#include <functional>
#include <condition_variable>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MM_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define MM_PAUSE() __asm__ __volatile__("yield")
#else
#define MM_PAUSE() ((void)0)
#endif

namespace mm {

namespace {

constexpr int IDX_BITS = 24, CNT_BITS = 24;
constexpr uint64_t IDX_MASK = (1ull << IDX_BITS) - 1, CNT_MASK = (1ull << CNT_BITS) - 1;

struct Pool {
  std::atomic<uint64_t> state{0};  // gen << 48 | count << 24 | next
  std::atomic<i64> done{0};
  const std::function<void(i64)>* fn = nullptr;
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  uint64_t gen = 0;

  static uint64_t pack(uint64_t g, uint64_t count, uint64_t next) { return (g << 48) | (count << 24) | next; }

  // Claims and runs tasks of the job whose state is `s` until none are left. Returns how many ran.
  i64 drain() {
    i64 ran = 0;
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t next = s & IDX_MASK, count = (s >> IDX_BITS) & CNT_MASK;
      if (next >= count) return ran;
      if (state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        (*fn)((i64)next);  // fn is stable while a task of this job is unfinished
        done.fetch_add(1, std::memory_order_acq_rel);
        ran++;
        s = state.load(std::memory_order_acquire);
      }
    }
  }

  void worker_loop() {
    t_in_pool = true;
    uint64_t seen_gen = state.load() >> 48;
    while (!stop.load(std::memory_order_relaxed)) {
      // spin ~200 us for a new job, then sleep
      auto t0 = std::chrono::steady_clock::now();
      bool got = false;
      for (int i = 0;; i++) {
        uint64_t s = state.load(std::memory_order_acquire);
        if ((s >> 48) != seen_gen) {
          seen_gen = s >> 48;
          got = true;
          break;
        }
        if (stop.load(std::memory_order_relaxed)) return;
        MM_PAUSE();
        if ((i & 255) == 255 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(200)) break;
      }
      if (!got) {
        std::unique_lock<std::mutex> lock(mu);
        sleepers.fetch_add(1);
        cv.wait(lock, [&] { return stop.load() || (state.load() >> 48) != seen_gen; });
        sleepers.fetch_sub(1);
        seen_gen = state.load() >> 48;
        if (stop.load()) return;
      }
      drain();
    }
  }

  void resize(int n_workers) {
    if ((int)workers.size() == n_workers) return;
    stop_all();
    stop.store(false);
    for (int i = 0; i < n_workers; i++) workers.emplace_back([this] { worker_loop(); });
  }

  void stop_all() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop.store(true);
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void run(i64 ntasks, const std::function<void(i64)>& f) {
    fn = &f;
    done.store(0, std::memory_order_relaxed);
    gen = (gen + 1) & 0xFFFF;
    {
      // publish under the mutex only when someone sleeps (cheap path otherwise)
      if (sleepers.load(std::memory_order_acquire) > 0) {
        std::lock_guard<std::mutex> lock(mu);
        state.store(pack(gen, (uint64_t)ntasks, 0), std::memory_order_release);
        cv.notify_all();
      } else {
        state.store(pack(gen, (uint64_t)ntasks, 0), std::memory_order_release);
        if (sleepers.load(std::memory_order_acquire) > 0) {
          std::lock_guard<std::mutex> lock(mu);
          cv.notify_all();
        }
      }
    }
    drain();
    while (done.load(std::memory_order_acquire) < ntasks) MM_PAUSE();  // only tasks already started by others
  }

  static thread_local bool t_in_pool;
  ~Pool() { stop_all(); }
};
thread_local bool Pool::t_in_pool = false;

Pool& pool() {
  static Pool p;
  return p;
}

std::mutex g_run_mu;  // one job at a time (kernels are called from the JS thread only)

}  // namespace

void parallel_tasks(i64 ntasks, int nthreads, const std::function<void(i64)>& fn) {
  if (ntasks <= 0) return;
  if (nthreads <= 1 || ntasks == 1 || Pool::t_in_pool || ntasks > (i64)CNT_MASK) {
    for (i64 i = 0; i < ntasks; i++) fn(i);
    return;
  }
  std::lock_guard<std::mutex> lock(g_run_mu);
  Pool& p = pool();
  p.resize(num_threads() - 1);  // the pool follows the thread setting; ntasks bounds a job's parallelism
  Pool::t_in_pool = true;
  p.run(ntasks, fn);
  Pool::t_in_pool = false;
}

}  // namespace mm
