#include "graph/swapper.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "edgetrain/error.h"

namespace edgetrain {

namespace {

constexpr size_t kSlotAlignment = 4096;
constexpr size_t kStop = static_cast<size_t>(-1);  // a ring entry that ends the thread

std::string default_directory() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// An unnamed file: nothing is left behind, whatever happens to the process.
int open_unnamed_file(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  // File systems without O_TMPFILE: a named file, unlinked at once.
  std::string path = directory + "/edgetrain-swap-XXXXXX";
  fd = ::mkstemp(path.data());
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

}  // namespace

Swapper::Swapper(const CompiledGraph& graph, float* arena)
    : directory_(graph.swap_directory.empty() ? default_directory() : graph.swap_directory),
      forward_steps_(graph.forward_steps),
      write_delay_(graph.swap_write_overlap ? 2 : 1),
      gaps_(graph.swap_gaps) {
  const size_t steps = graph.steps.size();
  writes_after_.resize(steps);
  reads_at_.resize(steps);
  needed_at_.resize(steps);
  queued_after_step_.assign(steps, 0);
  read_ticket_.assign(gaps_.size(), 0);
  std::vector<size_t> slot(graph.tensors.size(), static_cast<size_t>(-1));
  for (size_t g = 0; g < gaps_.size(); ++g) {
    const SwapGap& gap = gaps_[g];
    const GraphTensor& tensor = graph.tensors[gap.request];
    const size_t bytes = tensor.shape.bytes();
    if (slot[gap.request] == static_cast<size_t>(-1)) {
      slot[gap.request] = file_bytes_;
      file_bytes_ += (bytes + kSlotAlignment - 1) / kSlotAlignment * kSlotAlignment;
    }
    float* data = arena + tensor.offset / sizeof(float);
    transfers_.push_back({true, data, slot[gap.request], bytes});
    transfers_.push_back({false, data, slot[gap.request], bytes});
    writes_after_[gap.out_after].push_back(g);
    reads_at_[gap.read_from].push_back(g);
    needed_at_[gap.in_before].push_back(g);
  }
  ring_.assign(transfers_.size() + 2, 0);  // every transfer once, and kStop

  fd_ = open_unnamed_file(directory_);
  if (fd_ < 0)
    throw Error("memory_swap_path '" + directory_ +
                "': cannot create the swap file there: " + std::strerror(errno));
  if (const int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(file_bytes_)); error != 0) {
    ::close(fd_);
    throw Error("memory_swap_path '" + directory_ + "': cannot reserve " +
                std::to_string(file_bytes_) + " bytes for the swap file: " + std::strerror(error));
  }
  thread_ = std::thread([this] { run(); });
}

Swapper::~Swapper() {
  if (thread_.joinable()) {
    wait_done(queued_.load(std::memory_order_relaxed));
    queue(kStop);
    thread_.join();
  }
  if (fd_ >= 0) ::close(fd_);
}

bool Swapper::skipped(size_t gap, bool backward_follows) const {
  return !backward_follows && gaps_[gap].in_before >= forward_steps_;
}

void Swapper::queue(size_t transfer) {
  const size_t ticket = queued_.load(std::memory_order_relaxed);
  ring_[ticket % ring_.size()] = transfer;
  queued_.store(ticket + 1, std::memory_order_release);
  queued_.notify_one();
}

bool Swapper::wait_done(size_t count) {
  for (size_t done = done_.load(std::memory_order_acquire); done < count;
       done = done_.load(std::memory_order_acquire))
    done_.wait(done, std::memory_order_acquire);
  return !failed_.load(std::memory_order_acquire);
}

void Swapper::wait_for(size_t count) {
  if (!wait_done(count)) throw Error(failure_);
}

void Swapper::before_step(size_t step, bool backward_follows) {
  // Memory whose tensor was written out write_delay_ steps ago is overwritten from now on.
  if (step >= write_delay_) wait_for(queued_after_step_[step - write_delay_]);
  for (size_t g : reads_at_[step]) {
    if (skipped(g, backward_follows)) continue;
    queue(2 * g + 1);
    read_ticket_[g] = queued_.load(std::memory_order_relaxed);
  }
  for (size_t g : needed_at_[step])
    if (!skipped(g, backward_follows)) wait_for(read_ticket_[g]);
}

void Swapper::after_step(size_t step, bool backward_follows) {
  for (size_t g : writes_after_[step])
    if (!skipped(g, backward_follows)) queue(2 * g);
  queued_after_step_[step] = queued_.load(std::memory_order_relaxed);
}

void Swapper::drain() { wait_for(queued_.load(std::memory_order_relaxed)); }

void Swapper::run() {
  size_t next = 0;
  for (;;) {
    for (size_t queued = queued_.load(std::memory_order_acquire); queued == next;
         queued = queued_.load(std::memory_order_acquire))
      queued_.wait(queued, std::memory_order_acquire);
    const size_t entry = ring_[next % ring_.size()];
    if (entry == kStop) return;
    const Transfer& transfer = transfers_[entry];
    if (!failed_.load(std::memory_order_relaxed)) {
      auto* bytes = reinterpret_cast<char*>(transfer.data);
      size_t done = 0;
      while (done < transfer.bytes) {
        const auto offset = static_cast<off_t>(transfer.file_offset + done);
        const ssize_t n = transfer.write
                              ? ::pwrite(fd_, bytes + done, transfer.bytes - done, offset)
                              : ::pread(fd_, bytes + done, transfer.bytes - done, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          failure_ = "swap file in '" + directory_ +
                     "': " + (transfer.write ? "writing " : "reading ") +
                     std::to_string(transfer.bytes) +
                     " bytes failed: " + (n < 0 ? std::strerror(errno) : "unexpected end of file");
          failed_.store(true, std::memory_order_release);
          break;
        }
        done += static_cast<size_t>(n);
      }
      (transfer.write ? bytes_written_ : bytes_read_)
          .fetch_add(transfer.bytes, std::memory_order_relaxed);
    }
    ++next;
    done_.store(next, std::memory_order_release);
    done_.notify_all();
  }
}

}  // namespace edgetrain
