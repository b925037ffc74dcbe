// Datasets as the trainer sees them: a number of samples, each read into one-sample
// views shaped like the model's inputs and labels.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Writes sample `index` into `inputs` (one view per model input) and `labels` (one
  // per loss layer); each view has batch 1.
  virtual void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) = 0;
  // True when read() reads the sample from a file as it is asked for (the streaming
  // readers) rather than from memory. Such a dataset holds no samples in memory and may be
  // read on another thread; the DataLoader then prefetches the next batch by default.
  virtual bool streams() const { return false; }
};

// What a dataset section of a model file ([train_set], [valid_set], [test_set]) or the
// C++ API asks for. Paths are absolute or already resolved against the model file.
struct DatasetSpec {
  std::string type;               // "idx", "csv", or "file" (NNTrainer's raw float32 .dat)
  std::string path;               // csv and file
  std::string images;             // idx: the images file (.gz or not)
  std::string labels;             // idx: the labels file
  float validation_split = 0.0f;  // [train_set] only: this fraction becomes the validation set
  // "target = input": the label is the input itself, for autoencoders. idx then reads
  // only `images`; csv and file samples hold only the input values.
  bool target_is_input = false;
  // Read samples from the file as they are needed instead of loading the file: idx (a
  // gzip file through an uncompressed cache file) and file; csv does not stream.
  bool stream = false;
  // idx with stream: the folder of the uncompressed caches of gzip files; empty: the
  // default (EDGETRAIN_CACHE_DIR, else $XDG_CACHE_HOME/edgetrain, else ~/.cache/edgetrain).
  std::string cache_dir;
  std::string origin;  // where it was described, e.g. "model.ini:12", for messages
};

// Samples held in memory as flat float arrays, for single-input, single-loss models.
class MemoryDataset : public Dataset {
 public:
  // `inputs` holds samples * input_size floats, `labels` samples * label_size floats.
  MemoryDataset(std::vector<float> inputs, size_t input_size, std::vector<float> labels,
                size_t label_size);
  size_t size() const override { return samples_; }
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;

 private:
  std::vector<float> inputs_;
  std::vector<float> labels_;
  size_t input_size_;
  size_t label_size_;
  size_t samples_;
};

}  // namespace edgetrain
