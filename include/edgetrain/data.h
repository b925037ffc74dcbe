// Datasets and the loader that batches them.
//
//   auto train = edgetrain::open_dataset(spec, model.inputs()[0].shape().with_batch(1),
//                                        model.labels()[0].shape().feature_size());
//   edgetrain::DataLoader loader(*train, {.batch_size = model.batchSize(), .seed = 7});
//   std::vector<edgetrain::Tensor> inputs = model.inputs(), labels = model.labels();
//   loader.start_epoch();
//   while (size_t n = loader.next_batch(inputs, labels)) model.trainStep(n);
//
// The file readers (IDX, CSV, raw float32) load the whole file at construction and check it
// there, so a bad file fails before training starts. The streaming readers
// (StreamingIdxDataset, StreamingRawFloatDataset) make the same checks but read each
// sample from the file when it is asked for. Every error is a DataError whose
// message begins with the file name (and "file:row" or "file:row:column" for CSV).
// Each reader feeds single-input, single-loss models: read() takes one input view and at
// most one label view (none when the model has no loss).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgetrain/dataset.h"
#include "edgetrain/rng.h"
#include "edgetrain/tensor.h"

namespace edgetrain {

// MNIST-style IDX files: an images file (magic 0x00000803: unsigned bytes, 3 dimensions
// count:rows:cols, sizes big-endian) and a labels file (0x00000801: count class indices).
// Either may be gzip-compressed; zlib reads both kinds. Pixels and labels stay uint8 in
// memory (60000 28x28 images take 47 MB); read() writes pixel / 255 into the input view
// and the label one-hot into the label view, whose width is the number of classes.
class IdxDataset : public Dataset {
 public:
  // Throws DataError naming the file: missing file, wrong magic, truncated data or gzip
  // stream, bytes after the data, no samples, or image and label counts that differ.
  // An empty labels_path reads images only (for prediction): read() then takes no label.
  IdxDataset(std::string images_path, std::string labels_path);

  size_t size() const override { return count_; }
  // Throws DataError when the input view does not hold one image (both shapes in the
  // message) or the sample's label is not below the label view's width.
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  std::span<const uint8_t> labels() const { return labels_; }
  // The labels widened to size_t, for stratified_split_indices().
  std::vector<size_t> class_labels() const;
  // Checks every sample against a model at once: the image size against the sample size
  // of `input_sample_shape` and every label against `num_classes` (0: a model without a
  // loss; labels unchecked). Throws DataError naming the file, and for a label the first
  // sample outside the classes.
  void check_fits(const TensorShape& input_sample_shape, size_t num_classes) const;

 private:
  std::string images_path_;
  std::string labels_path_;
  size_t rows_ = 0;
  size_t cols_ = 0;
  size_t count_ = 0;
  std::vector<uint8_t> pixels_;  // size() * rows_ * cols_
  std::vector<uint8_t> labels_;
};

namespace data {
class StreamFile;
}

// Where a streaming reader keeps the uncompressed copies of gzip files.
struct StreamOptions {
  // Empty: EDGETRAIN_CACHE_DIR, else $XDG_CACHE_HOME/edgetrain, else ~/.cache/edgetrain.
  // Created when missing.
  std::string cache_dir;
};

// IDX files read sample by sample (pread) instead of loaded: the images stay on disk, and
// only the labels (one byte per sample) are held in memory. A gzip images file is
// decompressed once, with a small buffer, into an uncompressed cache file in
// options.cache_dir, which later runs reuse while it still matches the source (its path,
// size and modification time) and its own size and CRC-32; a cache that does not is
// rebuilt, written to a temporary file and renamed into place. Plain files are read
// directly. The checks and messages are those of IdxDataset; read() is safe from any
// thread and allocates nothing.
class StreamingIdxDataset : public Dataset {
 public:
  // Throws DataError as IdxDataset does, and naming the cache directory when it cannot be
  // created or written.
  StreamingIdxDataset(std::string images_path, std::string labels_path, StreamOptions options = {});
  ~StreamingIdxDataset() override;

  size_t size() const override { return count_; }
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;
  bool streams() const override { return true; }

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  std::span<const uint8_t> labels() const { return labels_; }
  std::vector<size_t> class_labels() const;
  void check_fits(const TensorShape& input_sample_shape, size_t num_classes) const;
  // The uncompressed cache the images are read from ("" for a plain file).
  const std::string& cache_path() const;

 private:
  std::string images_path_;
  std::string labels_path_;
  std::unique_ptr<data::StreamFile> images_;
  uint64_t pixels_offset_ = 0;  // where the pixels begin in the images content
  size_t rows_ = 0;
  size_t cols_ = 0;
  size_t count_ = 0;
  std::vector<uint8_t> labels_;
};

// Comma-separated values, one sample per row: `input_size` feature columns and the label.
// Rows and columns in messages count from 1, rows as lines of the file. Blank lines are
// skipped; a cell may have spaces around its number; CRLF line ends are accepted.
class CsvDataset : public Dataset {
 public:
  struct Options {
    // Where the label is. With one_hot, the one column holding the class index; without,
    // the first of `label_size` columns holding the label values. -1: at the end of the
    // row. The remaining columns, in order, are the features.
    int label_column = -1;
    // Whether the first row names the columns. Unset: it does when one of its cells is
    // not a number, so a header of numbers ("0,1,2,label") needs has_header = true.
    std::optional<bool> has_header = std::nullopt;
    // true: the label is a class index below `label_size`, written one-hot.
    // false: the label columns hold the label values themselves.
    bool one_hot = true;
  };

  // Reads and checks the whole file. Throws DataError for an empty file or one without
  // samples, a row with the wrong number of columns (file:row), a cell that is not a
  // number (file:row:column), a class index that is not a whole number below
  // `label_size`, or a label_column outside the row.
  CsvDataset(std::string path, size_t input_size, size_t label_size, Options options);
  CsvDataset(std::string path, size_t input_size, size_t label_size)
      : CsvDataset(std::move(path), input_size, label_size, Options()) {}

  size_t size() const override { return samples_; }
  // Throws DataError when the views do not hold `input_size` and `label_size` values.
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;

  // The class index of every sample; one_hot files only (DataError otherwise).
  std::vector<size_t> class_labels() const;

 private:
  std::string path_;
  size_t input_size_;
  size_t label_size_;
  bool one_hot_;
  size_t samples_ = 0;
  std::vector<float> features_;  // samples_ * input_size_
  // one_hot: one class index per sample; otherwise samples_ * label_size_ values.
  std::vector<float> label_values_;
};

// NNTrainer's raw .dat files: per sample, `input_size` float32 values and then
// `label_size` float32 values (a one-hot label), in host byte order, no header.
// The file is held in memory.
class RawFloatDataset : public Dataset {
 public:
  // Throws DataError naming the file when it is missing, empty, or not a whole number of
  // records of (input_size + label_size) * 4 bytes (the message gives the record size).
  RawFloatDataset(std::string path, size_t input_size, size_t label_size);

  size_t size() const override { return samples_; }
  // Throws DataError when the views do not hold `input_size` and `label_size` values.
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;

  // The arg-max of every sample's label, for stratified_split_indices().
  std::vector<size_t> class_labels() const;

 private:
  std::string path_;
  size_t input_size_;
  size_t label_size_;
  size_t samples_ = 0;
  std::vector<float> values_;  // samples_ records of input_size_ + label_size_
};

// RawFloatDataset's files read sample by sample (preadv straight into the model's views)
// instead of loaded. Same checks and messages; read() is safe from any thread and
// allocates nothing.
class StreamingRawFloatDataset : public Dataset {
 public:
  StreamingRawFloatDataset(std::string path, size_t input_size, size_t label_size);
  ~StreamingRawFloatDataset() override;

  size_t size() const override { return samples_; }
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;
  bool streams() const override { return true; }
  // Reads every label from the file.
  std::vector<size_t> class_labels() const;

 private:
  std::string path_;
  size_t input_size_;
  size_t label_size_;
  size_t samples_ = 0;
  std::unique_ptr<data::StreamFile> file_;
};

// Samples made by a function, the C++ API's generator callback. The function receives
// the sample index and batch-1 views shaped like the model's inputs and labels.
class GeneratorDataset : public Dataset {
 public:
  using Generator =
      std::function<void(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels)>;
  // Throws DataError when `generator` is empty.
  GeneratorDataset(size_t samples, Generator generator);

  size_t size() const override { return samples_; }
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;

 private:
  size_t samples_;
  Generator generator_;
};

// The samples of `base` at `indices`, in that order: a validation part of a training file,
// say. `base` must outlive the subset.
class SubsetDataset : public Dataset {
 public:
  // Throws DataError when an index is not below base.size().
  SubsetDataset(Dataset& base, std::vector<size_t> indices);

  size_t size() const override { return indices_.size(); }
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;
  const std::vector<size_t>& indices() const { return indices_; }
  bool streams() const override { return base_.streams(); }
  bool augments() const override { return base_.augments(); }
  void read_augmented(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels,
                      uint64_t seed) override;

 private:
  Dataset& base_;
  std::vector<size_t> indices_;
};

// The samples of `base` with the input as the label too, for autoencoders such as a VAE,
// whose loss compares the reconstruction with the input: read() reads the input from
// `base` (asking it for no label) and copies it into the label view. The label must hold
// as many values as the input, in the same order: a 1:28:28 image for a 1:28:28
// reconstruction (a 1:1:784 label would take the same pixels row by row).
class AutoencoderDataset : public Dataset {
 public:
  // Throws DataError when `base` is null.
  explicit AutoencoderDataset(std::unique_ptr<Dataset> base);

  size_t size() const override { return base_->size(); }
  // With no label view (a model without a loss) reads only the input. Throws DataError
  // naming both shapes when the label view's size differs from the input view's.
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;
  bool streams() const override { return base_->streams(); }

 private:
  std::unique_ptr<Dataset> base_;
};

// ---------------------------------------------------------------- image folders

// The images of a folder with one sub-folder per class: class names are the sub-folder
// names in byte order (class i is the i-th), images the PNG, JPEG and BMP files in them
// (by extension, any case), in byte order of their paths. Names starting with '.' are
// ignored, as are other files.
struct ImageFolderListing {
  std::string root;
  std::vector<std::string> classes;
  std::vector<std::string> files;  // relative to root: "cat/001.png"
  std::vector<size_t> labels;      // the class of each file
};

// Throws DataError naming the folder when it is missing or not a folder, holds fewer
// than two class folders (a classifier needs two), or a class folder holds no image.
ImageFolderListing list_image_folder(const std::string& root);

// Decodes an image file (PNG, JPEG, BMP, ... whatever stb_image reads) into `channels`
// (1: grayscale by luminance, (77 R + 150 G + 29 B) / 256 as stb_image computes it; 3:
// RGB, a gray image repeated), resized to height x width by bilinear interpolation
// (stb_image_resize's triangle filter, pixel centres at half pixels; when shrinking the
// triangle widens by the scale, so that every input pixel counts, as in PIL's bilinear
// resize), as bytes in C:H:W order. Throws DataError naming the file when it cannot
// be read or decoded, with stb_image's reason, or when channels is not 1 or 3.
std::vector<uint8_t> load_image_bytes(const std::string& path, size_t channels, size_t height,
                                      size_t width);
// Resizes interleaved (H:W:C) bytes as load_image_bytes() does; same size: a copy.
std::vector<uint8_t> resize_image_bytes(std::span<const uint8_t> pixels, size_t channels,
                                        size_t height, size_t width, size_t new_height,
                                        size_t new_width);

// Checks an augmentation's parameters and a normalization against a sample of
// `channels` x height x width. Throws DataError naming the key (as the model file spells
// it) and the value: crop_padding or cutout not below the image's size, shift not in
// [0, 1), flip_probability, brightness, contrast or noise_std not in [0, 1],
// normalize_mean / normalize_std with neither one value nor one per channel, one given
// without the other, or a std that is not > 0.
void check_augmentation(const Augmentation& augmentation, size_t height, size_t width);
void check_normalization(const Normalization& normalization, size_t channels);

// The steps of an Augmentation on one C:H:W sample (a view: its values change in place), each with
// its random draws given, so that tests can check them: image(c, y, x) becomes image(c, y - dy, x -
// dx), 0 where that is outside (a crop of the padded image at offset (pad - dy, pad - dx) is the
// shift (dy, dx)); the mirror image; a `size` x `size` square of zeros whose top-left corner is
// (top, left), clipped at the borders.
void shift_image(Tensor sample, long dy, long dx);
void flip_image_horizontally(Tensor sample);
void cut_out_image(Tensor sample, long top, long left, size_t size);
// Draws and applies every enabled step of `augmentation` in its documented order.
void augment_image(Tensor sample, const Augmentation& augmentation, Rng& rng);
// (value - mean[c]) / std[c] on every value of channel c; nothing when not enabled.
void normalize_image(Tensor sample, const Normalization& normalization);

// The parts of an image folder, as the split file records them. The file is text, one
// entry a line, '\n' ends a line, fields separated by one space; a path is the rest of
// its line, so it may hold spaces:
//
//   edgetrain-split 1
//   validation_split 0.1
//   test_split 0.1
//   seed 7
//   class cat
//   class dog
//   train cat/001.png
//   validation dog/004.jpg
//   test cat/007.png
//
// Classes in class order; then one line per image, its part and its path relative to the
// folder, whose first component is its class. Parts list their images in the order the
// split gives them.
struct ImageFolderSplitFile {
  float validation_split = 0.0f;
  float test_split = 0.0f;
  uint64_t seed = 0;
  std::vector<std::string> classes;
  std::vector<std::string> train, validation, test;  // relative paths
};

// Reads a split file; throws DataError naming the file and line on anything it does
// not expect. Writes one atomically; throws DataError naming the file.
ImageFolderSplitFile read_split_file(const std::string& path);
void write_split_file(const ImageFolderSplitFile& split, const std::string& path);

// The split of `listing` that `split` asks for: stratified_split_indices over its
// labels with ratios {1 - validation - test, validation, test} and the seed.
ImageFolderSplitFile split_image_folder(const ImageFolderListing& listing,
                                        const ImageFolderSplit& split);

// The split to use for the folder at `root`: the split file when it exists and was
// made with the same fractions, seed and classes (the parts stay as they were, even when
// images were added since); otherwise a new split, written to split.file. Notes on stderr
// when it replaces a split file, and how many images the file leaves out. Throws
// DataError as list_image_folder() and read_split_file() do.
ImageFolderSplitFile load_or_make_split(const std::string& root, const ImageFolderSplit& split);

// Images of a folder of class folders as a classification data set: the label is the
// one-hot class. Every image is decoded at construction, converted and resized to the
// model's input (channels x height x width) and kept as bytes: a small data set costs
// C x H x W bytes per image in memory (1,000 32x32 RGB images: 3 MiB) and each read only
// converts bytes to floats, pixel / 255, then augments (read_augmented(), when an
// augmentation is set) and normalizes. Decoding lazily would keep the full-size files'
// pixels out of memory, but pay the decode and resize on every read, every epoch.
class ImageFolderDataset : public Dataset {
 public:
  struct Options {
    // Images that do not decode are skipped (skipped() lists them) instead of failing.
    bool skip_corrupt = false;
    Augmentation augmentation = {};  // applied by read_augmented(), for a training set
    Normalization normalization = {};
  };

  // The images of `listing` (all of a folder, or a part of it) for a model input of
  // `input_sample_shape` (batch 1; C is 1 or 3) and a loss taking `num_classes` values
  // (0: a model without a loss; unchecked). Throws DataError naming the folder when
  // num_classes is not the number of classes (both numbers in the message), a file does
  // not decode (naming it) unless skip_corrupt, or the options do not fit the input
  // (check_augmentation(), check_normalization()).
  ImageFolderDataset(ImageFolderListing listing, const TensorShape& input_sample_shape,
                     size_t num_classes, Options options);
  // Every image of the folder at `root` (list_image_folder()).
  ImageFolderDataset(const std::string& root, const TensorShape& input_sample_shape,
                     size_t num_classes, Options options)
      : ImageFolderDataset(list_image_folder(root), input_sample_shape, num_classes,
                           std::move(options)) {}

  size_t size() const override { return labels_.size(); }
  // Throws DataError when the views do not fit the input shape and the classes.
  void read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) override;
  bool augments() const override { return options_.augmentation.enabled(); }
  void read_augmented(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels,
                      uint64_t seed) override;

  const std::vector<std::string>& classes() const { return classes_; }
  // The files read, relative to the root, and their classes (skipped files left out).
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<size_t>& class_labels() const { return labels_; }
  // The files skipped by skip_corrupt: the message of each one's DataError, which names it.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  // Writes sample `index` as pixel / 255, augmented with `rng` when it is given.
  void read_sample(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels, Rng* rng);

  std::string root_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<size_t> labels_;
  TensorShape sample_shape_;
  Options options_;
  std::vector<uint8_t> pixels_;  // size() * C * H * W, C:H:W per image
  std::vector<std::string> skipped_;
};

// Splits 0..n-1 into ratios.size() parts: shuffles with `seed`, then gives part p > 0
// floor(ratios[p] * n) indices and the first part the rest, so {0.8, 0.2} of 10 is 8 and 2
// and {0, 0.25} of 10 is 8 and 2. Each part lists its indices in shuffled order.
// Throws DataError when ratios is empty, a ratio is negative, or they sum to more than 1.
std::vector<std::vector<size_t>> split_indices(size_t n, const std::vector<double>& ratios,
                                               uint64_t seed);

// As split_indices() over labels.size() samples, with the same part sizes, but with every
// class spread over the parts in proportion: part p > 0 takes floor(ratios[p] * k) of a
// class of k samples, and the few samples still needed to reach its size come one per
// class from the classes with the largest fractional shares. labels[i] is sample i's
// class; the classes need not be contiguous.
std::vector<std::vector<size_t>> stratified_split_indices(std::span<const size_t> labels,
                                                          const std::vector<double>& ratios,
                                                          uint64_t seed);

// Batches of samples of a dataset, read straight into the model's batch tensors.
//
//   loader.start_epoch();                     // a new order
//   while (size_t n = loader.next_batch(inputs, labels)) model.trainStep(n);
//
// The order of each epoch is a Fisher-Yates shuffle drawn from the loader's own Rng, so
// it follows from the seed, and from rng().state() saved before start_epoch() when a
// checkpoint is resumed. Reading allocates nothing after the first batch. A dataset that
// augments() varies each sample with a seed mixed from one drawn at start_epoch() and the
// sample's position in the epoch: the same batches with or without prefetch, and after a
// resume.
//
// With prefetch, next_batch() hands out the batch a worker thread read into a staging
// buffer while the caller trained on the previous one, and sets the worker on the next.
// Samples the worker has not reached yet are read by next_batch() itself, so a worker
// that a busy machine keeps off the CPU never makes the caller wait for more than the
// sample it is reading.
// The batches are exactly those read without prefetch: start_epoch() and set_position()
// discard a batch read ahead, the first batch of an epoch is read by the caller, and an
// exception in the worker (a DataError from a file) is thrown by the next_batch() that
// asks for its batch. The worker starts with the first batch read ahead and is joined
// by the destructor; the staging buffer holds one batch of every input and label.
class DataLoader {
 public:
  struct Options {
    size_t batch_size = 1;
    bool shuffle = true;     // false: the dataset's order
    bool drop_last = false;  // true: an epoch ends before a last partial batch
    uint64_t seed = 0;
    // Read the next batch on a worker thread while the caller uses this one. Unset: when
    // the dataset streams from a file (Dataset::streams()). The dataset's read() must
    // then be safe on another thread, reading nothing the caller changes meanwhile.
    std::optional<bool> prefetch = std::nullopt;
    // false: read samples unvaried even from a dataset that augments(), for evaluation.
    bool augment = true;
  };

  // `data` must outlive the loader. Throws DataError when batch_size is 0.
  DataLoader(Dataset& data, Options options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  size_t num_batches() const;
  const Options& options() const { return options_; }
  bool prefetches() const { return prefetch_; }

  // Starts an epoch: the dataset's order, shuffled when options().shuffle.
  void start_epoch();
  // Reads the next batch into the first n samples of `inputs` and `labels` (the model's
  // batch tensors, batch >= batch_size) and returns n: batch_size, fewer for a last
  // partial batch, 0 when the epoch is over. Throws StateError before start_epoch(),
  // DataError when a tensor's batch is smaller than batch_size.
  size_t next_batch(std::span<const Tensor> inputs, std::span<const Tensor> labels);

  // The generator of the shuffles, for checkpoints.
  Rng& rng() { return rng_; }
  // Samples of this epoch already read; set_position() resumes an epoch mid-way after
  // start_epoch() reproduced its order. It throws StateError before start_epoch() and
  // DataError past the end of the epoch.
  size_t position() const { return position_; }
  void set_position(size_t position);

 private:
  class Prefetcher;

  bool augments() const { return options_.augment && data_.augments(); }
  // Makes the per-sample views of the batch tensors when they are not those of last time.
  void bind(std::span<const Tensor> inputs, std::span<const Tensor> labels);
  // The samples of the batch starting at `position`: 0 at the end of the epoch.
  size_t batch_at(size_t position) const;
  // Reads sample order_[position + slot] into sample `slot` of per-sample views laid out
  // as input_views_ and label_views_ (the prefetcher's staging views too).
  void read_sample(size_t position, size_t slot, std::span<Tensor> input_views,
                   std::span<Tensor> label_views);

  Dataset& data_;
  Options options_;
  bool prefetch_;
  Rng rng_;
  // Sample indices; 32 bits, half the memory of size_t (234 KiB less for 60,000 samples).
  std::vector<uint32_t> order_;
  // With augmentation, drawn from rng_ by start_epoch() after the shuffle; sample
  // `position` of the epoch is augmented with a seed mixed from it and the position.
  uint64_t augment_seed_ = 0;
  size_t position_ = 0;
  bool started_ = false;
  // The batch tensors the views were made from, and the views: sample b's input views
  // are input_views_[b * bound_inputs_.size() ...], likewise for labels.
  std::vector<Tensor> bound_inputs_;
  std::vector<Tensor> bound_labels_;
  std::vector<Tensor> input_views_;
  std::vector<Tensor> label_views_;
  std::unique_ptr<Prefetcher> prefetcher_;  // with prefetch, made by the first bind()
};

// Opens the dataset a DatasetSpec describes, for a single-input model taking
// `input_sample_shape` (batch 1) and a loss taking `label_size` values per sample:
// "idx" (images, labels), "csv" (path; default CsvDataset options), "file" (path; raw
// float32) or "image_folder" (an ImageFolderDataset of spec.part of the folder's split,
// load_or_make_split(); the augmentation on the training part only; skipped files are
// reported on stderr). With spec.target_is_input, an AutoencoderDataset over idx images alone or
// over csv / file samples of input values only, and label_size must equal the input's
// size. Checks the data against the model now. validation_split is left to the
// caller (split_indices). Throws DataError, beginning with spec.origin when it is set;
// an unknown type lists the known ones.
std::unique_ptr<Dataset> open_dataset(const DatasetSpec& spec,
                                      const TensorShape& input_sample_shape, size_t label_size);

}  // namespace edgetrain
