#include <algorithm>
#include <numeric>

#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

bool same_views(std::span<const Tensor> a, std::span<const Tensor> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Tensor& x, const Tensor& y) {
    return x.data() == y.data() && x.shape() == y.shape();
  });
}

}  // namespace

DataLoader::DataLoader(Dataset& data, Options options)
    : data_(data), options_(options), rng_(options.seed), order_(data.size()) {
  if (options_.batch_size == 0) throw DataError("DataLoader: batch_size must be at least 1");
}

size_t DataLoader::num_batches() const {
  const size_t samples = order_.size();
  const size_t batch = options_.batch_size;
  return options_.drop_last ? samples / batch : (samples + batch - 1) / batch;
}

void DataLoader::start_epoch() {
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (options_.shuffle)
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  position_ = 0;
  started_ = true;
}

void DataLoader::set_position(size_t position) {
  if (!started_) throw StateError("DataLoader: call start_epoch() before set_position()");
  if (position > order_.size())
    throw DataError("DataLoader: position " + std::to_string(position) +
                    " is past the end of an epoch of " + std::to_string(order_.size()) +
                    " samples");
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
  bound_inputs_.assign(inputs.begin(), inputs.end());
  bound_labels_.assign(labels.begin(), labels.end());
  input_views_.clear();
  label_views_.clear();
  for (size_t b = 0; b < batch; ++b) {
    for (const Tensor& tensor : inputs) input_views_.push_back(tensor.batch_slice(b, 1));
    for (const Tensor& tensor : labels) label_views_.push_back(tensor.batch_slice(b, 1));
  }
}

size_t DataLoader::next_batch(std::span<const Tensor> inputs, std::span<const Tensor> labels) {
  if (!started_) throw StateError("DataLoader: call start_epoch() before next_batch()");
  const size_t count = std::min(options_.batch_size, order_.size() - position_);
  if (count == 0 || (options_.drop_last && count < options_.batch_size)) return 0;
  bind(inputs, labels);
  std::span<Tensor> input_views(input_views_);
  std::span<Tensor> label_views(label_views_);
  for (size_t b = 0; b < count; ++b)
    data_.read(order_[position_ + b], input_views.subspan(b * inputs.size(), inputs.size()),
               label_views.subspan(b * labels.size(), labels.size()));
  position_ += count;
  return count;
}

}  // namespace edgetrain
