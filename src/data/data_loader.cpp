#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

bool same_views(std::span<const Tensor> a, std::span<const Tensor> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Tensor& x, const Tensor& y) {
    return x.data() == y.data() && x.shape() == y.shape();
  });
}

// The seed of the sample at `position` of an epoch: splitmix64's finalizer over the
// epoch's seed and the position, so that neighbouring positions get unrelated seeds.
uint64_t sample_seed(uint64_t epoch_seed, size_t position) {
  uint64_t z = epoch_seed + 0x9e3779b97f4a7c15ull * (static_cast<uint64_t>(position) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

// The worker thread and its staging buffer. One job at a time: read a batch of the
// loader's order into the staging views.
class DataLoader::Prefetcher {
 public:
  explicit Prefetcher(DataLoader& loader) : loader_(loader) {}
  ~Prefetcher() {
    cancel();
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Staging for `batch` samples of tensors shaped like `inputs` and `labels`, with views
  // laid out as the loader's. No job may be under way (cancel() first).
  void configure(std::span<const Tensor> inputs, std::span<const Tensor> labels, size_t batch) {
    size_t total = 0;
    for (std::span<const Tensor> tensors : {inputs, labels})
      for (const Tensor& tensor : tensors) total += tensor.shape().feature_size() * batch;
    staging_.assign(total, 0.0f);
    input_views_.clear();
    label_views_.clear();
    // Tensor t's samples are contiguous, from its base offset.
    std::vector<size_t> bases;
    size_t base = 0;
    for (std::span<const Tensor> tensors : {inputs, labels})
      for (const Tensor& tensor : tensors) {
        bases.push_back(base);
        base += tensor.shape().feature_size() * batch;
      }
    for (size_t b = 0; b < batch; ++b) {
      size_t t = 0;
      for (auto [tensors, views] :
           {std::pair{inputs, &input_views_}, std::pair{labels, &label_views_}})
        for (const Tensor& tensor : tensors) {
          const size_t size = tensor.shape().feature_size();
          views->push_back(
              Tensor(staging_.data() + bases[t++] + b * size, tensor.shape().with_batch(1)));
        }
    }
  }

  // Sets the worker on the batch of `count` samples at `position`.
  void start(size_t position, size_t count) {
    {
      std::lock_guard lock(mutex_);
      ET_ASSERT(state_ == State::idle, "prefetch started twice");
      job_position_ = position;
      job_count_ = count;
      next_slot_.store(0);
      state_ = State::requested;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    wake_.notify_one();
  }

  // Finishes the job under way, if any, reading the samples the worker has not claimed
  // (all of them when it has not started). True when the job was the batch of `count`
  // samples at `position`, now in the staging views; rethrows the exception of its first
  // sample that failed.
  bool take(size_t position, size_t count) {
    std::unique_lock lock(mutex_);
    if (state_ == State::idle) return false;
    if (job_position_ != position || job_count_ != count) {
      lock.unlock();
      cancel();
      return false;
    }
    if (state_ == State::requested) {
      state_ = State::idle;  // the worker has not taken it: the caller reads it all
      lock.unlock();
      read_claimed();
      lock.lock();
    } else {
      lock.unlock();
      read_claimed();
      lock.lock();
      done_.wait(lock, [&] { return state_ == State::done; });
      state_ = State::idle;
    }
    const std::exception_ptr error = std::exchange(error_, nullptr);
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return true;
  }

  // Stops the job under way, if any, and forgets it.
  void cancel() {
    std::unique_lock lock(mutex_);
    if (state_ != State::idle) {
      cancel_ = true;
      if (state_ != State::requested) done_.wait(lock, [&] { return state_ == State::done; });
      cancel_ = false;
      state_ = State::idle;
    }
    error_ = nullptr;
  }

  std::span<Tensor> input_views() { return input_views_; }
  std::span<Tensor> label_views() { return label_views_; }

 private:
  enum class State { idle, requested, running, done };

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop_ || state_ == State::requested; });
      if (stop_) return;
      state_ = State::running;
      lock.unlock();
      read_claimed();
      lock.lock();
      state_ = State::done;
      done_.notify_all();
    }
  }

  // Claims and reads samples of the job until none is left; keeps the exception of the
  // first sample (in batch order) that failed, as reading in order would have thrown.
  void read_claimed() {
    for (size_t slot; (slot = next_slot_.fetch_add(1)) < job_count_;) {
      if (cancel_.load(std::memory_order_relaxed)) return;
      try {
        loader_.read_sample(job_position_, slot, input_views_, label_views_);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_ || slot < error_slot_) {
          error_ = std::current_exception();
          error_slot_ = slot;
        }
      }
    }
  }

  DataLoader& loader_;
  std::vector<float> staging_;
  std::vector<Tensor> input_views_;
  std::vector<Tensor> label_views_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;  // a job or stop_ for the worker
  std::condition_variable done_;  // a finished job for the caller
  State state_ = State::idle;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  // The job: samples order_[job_position_ ...] into staging slots 0 .. job_count_ - 1,
  // claimed one by one by the worker and by take().
  size_t job_position_ = 0;
  size_t job_count_ = 0;
  std::atomic<size_t> next_slot_{0};
  std::exception_ptr error_;  // of the first failed slot
  size_t error_slot_ = 0;
};

DataLoader::DataLoader(Dataset& data, Options options)
    : data_(data),
      options_(options),
      prefetch_(options.prefetch.value_or(data.streams())),
      rng_(options.seed) {
  if (options_.batch_size == 0) throw DataError("DataLoader: batch_size must be at least 1");
  if (data.size() > std::numeric_limits<uint32_t>::max())
    throw DataError("DataLoader: " + std::to_string(data.size()) + " samples; at most " +
                    std::to_string(std::numeric_limits<uint32_t>::max()) + " are supported");
  order_.resize(data.size());
}

DataLoader::~DataLoader() = default;

size_t DataLoader::num_batches() const {
  const size_t samples = order_.size();
  const size_t batch = options_.batch_size;
  return options_.drop_last ? samples / batch : (samples + batch - 1) / batch;
}

size_t DataLoader::batch_at(size_t position) const {
  const size_t count = std::min(options_.batch_size, order_.size() - position);
  return count == 0 || (options_.drop_last && count < options_.batch_size) ? 0 : count;
}

void DataLoader::start_epoch() {
  if (prefetcher_) prefetcher_->cancel();
  std::iota(order_.begin(), order_.end(), uint32_t{0});
  if (options_.shuffle)
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  // Drawn only when it is used, so that the shuffles of datasets that do not augment
  // stay what they were.
  if (augments()) augment_seed_ = rng_.next_u64();
  position_ = 0;
  started_ = true;
}

void DataLoader::set_position(size_t position) {
  if (!started_) throw StateError("DataLoader: call start_epoch() before set_position()");
  if (position > order_.size())
    throw DataError("DataLoader: position " + std::to_string(position) +
                    " is past the end of an epoch of " + std::to_string(order_.size()) +
                    " samples");
  if (prefetcher_) prefetcher_->cancel();
  position_ = position;
}

void DataLoader::bind(std::span<const Tensor> inputs, std::span<const Tensor> labels) {
  if (same_views(inputs, bound_inputs_) && same_views(labels, bound_labels_)) return;
  const size_t batch = options_.batch_size;
  for (std::span<const Tensor> tensors : {inputs, labels})
    for (const Tensor& tensor : tensors)
      if (tensor.batch() < batch)
        throw DataError("DataLoader: batches of " + std::to_string(batch) +
                        " samples do not fit a batch tensor of shape " + tensor.shape().str());
  if (prefetcher_) prefetcher_->cancel();
  bound_inputs_.assign(inputs.begin(), inputs.end());
  bound_labels_.assign(labels.begin(), labels.end());
  input_views_.clear();
  label_views_.clear();
  for (size_t b = 0; b < batch; ++b) {
    for (const Tensor& tensor : inputs) input_views_.push_back(tensor.batch_slice(b, 1));
    for (const Tensor& tensor : labels) label_views_.push_back(tensor.batch_slice(b, 1));
  }
  if (prefetch_) {
    if (!prefetcher_) prefetcher_ = std::make_unique<Prefetcher>(*this);
    prefetcher_->configure(inputs, labels, batch);
  }
}

void DataLoader::read_sample(size_t position, size_t slot, std::span<Tensor> input_views,
                             std::span<Tensor> label_views) {
  const size_t inputs = bound_inputs_.size(), labels = bound_labels_.size();
  const size_t index = order_[position + slot];
  const std::span<Tensor> sample_inputs = input_views.subspan(slot * inputs, inputs);
  const std::span<Tensor> sample_labels = label_views.subspan(slot * labels, labels);
  if (augments())
    data_.read_augmented(index, sample_inputs, sample_labels,
                         sample_seed(augment_seed_, position + slot));
  else
    data_.read(index, sample_inputs, sample_labels);
}

size_t DataLoader::next_batch(std::span<const Tensor> inputs, std::span<const Tensor> labels) {
  if (!started_) throw StateError("DataLoader: call start_epoch() before next_batch()");
  const size_t count = batch_at(position_);
  if (count == 0) return 0;
  bind(inputs, labels);
  if (prefetcher_ && prefetcher_->take(position_, count)) {
    // The worker read this batch: copy it from the staging buffer.
    std::span<Tensor> staged_inputs = prefetcher_->input_views();
    std::span<Tensor> staged_labels = prefetcher_->label_views();
    for (size_t i = 0; i < count * inputs.size(); ++i)
      std::copy_n(staged_inputs[i].data(), staged_inputs[i].size(), input_views_[i].data());
    for (size_t i = 0; i < count * labels.size(); ++i)
      std::copy_n(staged_labels[i].data(), staged_labels[i].size(), label_views_[i].data());
  } else {
    for (size_t slot = 0; slot < count; ++slot)
      read_sample(position_, slot, input_views_, label_views_);
  }
  position_ += count;
  if (prefetcher_)
    if (const size_t next = batch_at(position_); next > 0) prefetcher_->start(position_, next);
  return count;
}

}  // namespace edgetrain
