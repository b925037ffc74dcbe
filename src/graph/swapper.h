// Moves tensors between the arena and a swap file on a background thread, as the compiled
// graph's swap gaps say (src/memory/swap_planner.h has the timing). The Executor calls
// before_step / after_step around every step; transfers run in the order they are
// queued, so a tensor's bytes are written out before another tensor's read lands on them.
// Nothing is allocated after construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "graph/graph.h"

namespace edgetrain {

class Swapper {
 public:
  // Creates an unnamed swap file in graph.swap_directory (else $TMPDIR, else /tmp) with room
  // for every swapped tensor, and starts the transfer thread. Throws Error naming the
  // directory when the file cannot be created or its space reserved.
  Swapper(const CompiledGraph& graph, float* arena);
  ~Swapper();
  Swapper(const Swapper&) = delete;
  Swapper& operator=(const Swapper&) = delete;

  // `backward_follows`: false for an inference forward, which skips the gaps that end in
  // the backward pass (nothing will read those tensors).
  void before_step(size_t step, bool backward_follows);
  void after_step(size_t step, bool backward_follows);
  // Waits for every queued transfer. Throws Error if one failed.
  void drain();

  const std::string& directory() const { return directory_; }
  size_t file_bytes() const { return file_bytes_; }
  // Bytes moved so far, for reports.
  size_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  size_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

 private:
  struct Transfer {
    bool write = false;
    float* data = nullptr;
    size_t file_offset = 0;
    size_t bytes = 0;
  };

  bool skipped(size_t gap, bool backward_follows) const;
  void queue(size_t transfer);
  // Waits until `count` transfers are done; false if one failed.
  bool wait_done(size_t count);
  void wait_for(size_t count);  // wait_done, throwing the failure
  void run();

  std::string directory_;
  int fd_ = -1;
  size_t file_bytes_ = 0;
  size_t forward_steps_ = 0;
  size_t write_delay_ = 2;  // a write queued after step s is waited for before step s + this
  std::vector<SwapGap> gaps_;
  std::vector<Transfer> transfers_;  // 2 per gap: [2g] writes it out, [2g + 1] reads it back
  std::vector<std::vector<size_t>> writes_after_, reads_at_, needed_at_;  // gaps, per step
  std::vector<size_t> queued_after_step_;  // queue count after each step's writes
  std::vector<size_t> read_ticket_;        // per gap: queue count once its read is queued

  std::vector<size_t> ring_;  // queued transfer indices; capacity: every transfer once
  std::atomic<size_t> queued_{0};
  std::atomic<size_t> done_{0};
  std::atomic<bool> failed_{false};
  std::string failure_;  // written by the thread before failed_ is set
  std::atomic<size_t> bytes_written_{0}, bytes_read_{0};
  std::thread thread_;
};

}  // namespace edgetrain
