// Datasets as the trainer sees them: a number of samples, each read into one-sample
// views shaped like the model's inputs and labels.
#pragma once

#include <cstddef>
#include <cstdint>
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
  // True when the dataset varies its samples at random for training (ImageFolderDataset
  // with an Augmentation). The DataLoader then reads samples with read_augmented(),
  // giving each one a seed drawn from its own seed, the epoch and the sample's place in
  // it, so the variations follow from the loader's seed whichever thread reads them.
  virtual bool augments() const { return false; }
  // Writes sample `index` as read() does, varied at random by `seed` when augments().
  virtual void read_augmented(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels,
                              uint64_t seed) {
    (void)seed;
    read(index, inputs, labels);
  }
};

// Random variations of training images, applied to a C:H:W sample in this order (each
// one off at its default): a random crop of the image padded by `crop_padding` zero
// pixels on every side (a random shift of up to that many pixels, the uncovered pixels
// black), a random shift of up to `shift` of the height and width, a horizontal flip
// with `flip_probability`, brightness (a value added) and contrast (the distance from
// the sample's mean scaled), Gaussian noise, and cutout (a `cutout` x `cutout` square
// set to black, centred anywhere in the image, clipped at the borders). Values are kept
// in [0, 1] after brightness, contrast and noise. Pixels are those before
// normalization: black is 0.
struct Augmentation {
  size_t crop_padding = 0;        // pixels; 0: off
  float shift = 0.0f;             // fraction of the height and width in [0, 1); 0: off
  float flip_probability = 0.0f;  // in [0, 1]; 0: off
  float brightness = 0.0f;        // adds a value drawn in [-brightness, brightness]
  float contrast = 0.0f;          // scales by a factor drawn in [1 - contrast, 1 + contrast]
  float noise_std = 0.0f;         // standard deviation of the noise added to every value
  size_t cutout = 0;              // side of the square in pixels; 0: off

  bool enabled() const {
    return crop_padding > 0 || shift > 0.0f || flip_probability > 0.0f || brightness > 0.0f ||
           contrast > 0.0f || noise_std > 0.0f || cutout > 0;
  }
};

// Per-channel standardization, (value - mean) / std, applied to every sample of a data
// set after any augmentation. One value applies to every channel; empty: none.
struct Normalization {
  std::vector<float> mean = {};
  std::vector<float> std = {};

  bool enabled() const { return !mean.empty(); }
};

// How a [train_set] of type image_folder is cut into training, validation and test parts.
struct ImageFolderSplit {
  float validation = 0.0f;  // fractions of every class
  float test = 0.0f;
  uint64_t seed = 0;
  // The split file: the classes and each part's files (see ImageFolderSplitFile). Written
  // when missing or when it was made with other fractions, seed or classes; read
  // otherwise, so that every later run uses the same parts. Empty: not written.
  std::string file = {};
};

// What a dataset section of a model file ([train_set], [valid_set], [test_set]) or the
// C++ API asks for. Paths are absolute or already resolved against the model file.
struct DatasetSpec {
  // "idx", "csv", "file" (NNTrainer's raw float32 .dat) or "image_folder"
  std::string type;
  std::string path;               // csv and file; image_folder: the folder of class folders
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

  // image_folder only.
  enum class Part { all, train, validation, test };
  Part part = Part::all;  // all: every image of the folder; else that part of `split`
  ImageFolderSplit split;
  bool skip_corrupt = false;  // skip images that do not decode, with a warning on stderr
  Augmentation augmentation;  // the training part only
  Normalization normalization;
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
