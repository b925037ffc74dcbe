// IDX files (the MNIST format): a 4-byte big-endian magic number 0x0000TTDD (TT the
// element type, 0x08 for unsigned bytes; DD the number of dimensions), DD big-endian
// 4-byte sizes, then the elements. zlib's gzread reads gzip-compressed and plain files
// alike, so both are accepted without looking at the file name.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "data/stream_file.h"
#include "data/view_checks.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension

struct GzClose {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

std::string hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

// One IDX file being read from the start.
class IdxReader {
 public:
  explicit IdxReader(const std::string& path) : path_(path) {
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_)
      throw DataError(path + ": cannot open: " +
                      (errno != 0 ? std::strerror(errno) : "zlib could not allocate a reader"));
  }

  // Reads the magic and the sizes; `kind` names the expected file in the error.
  std::vector<size_t> read_header(uint32_t expected_magic, const char* kind) {
    std::array<unsigned char, 4> magic{};
    read_header_field(magic.data());
    const uint32_t found = big_endian(magic.data());
    if (found != expected_magic)
      throw DataError(path_ + ": not an IDX " + kind + " file (magic " + hex32(found) +
                      ", expected " + hex32(expected_magic) + ")");
    std::vector<size_t> dims(expected_magic & 0xff);
    for (size_t& dim : dims) {
      std::array<unsigned char, 4> size{};
      read_header_field(size.data());
      dim = big_endian(size.data());
    }
    return dims;
  }

  // Reads exactly `count` elements (bytes) into `out`; `what` names them in messages.
  // The buffer grows as data arrives, so a corrupt header that promises gigabytes fails
  // at the end of the real data rather than at allocation.
  void read_data(size_t count, std::vector<uint8_t>& out, const char* what) {
    constexpr size_t kChunk = size_t{1} << 20;
    out.clear();
    while (out.size() < count) {
      const size_t have = out.size();
      const size_t want = std::min(kChunk, count - have);
      out.resize(have + want);
      const size_t got = read_some(out.data() + have, want);
      out.resize(have + got);
      if (got == 0)
        throw truncated(": expected " + std::to_string(count) + " " + what + ", found " +
                        std::to_string(have));
    }
    // Reading past the data makes zlib check the gzip trailer (CRC and length) too.
    unsigned char extra = 0;
    if (read_some(&extra, 1) != 0)
      throw DataError(path_ + ": more data than the " + std::to_string(count) + " " + what +
                      " its header declares");
  }

 private:
  static uint32_t big_endian(const unsigned char* bytes) {
    return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
           uint32_t{bytes[3]};
  }

  // Up to `count` bytes (0 at the end of the data). A corrupt gzip stream is an error;
  // a truncated one ends early and is reported by the caller.
  size_t read_some(void* out, size_t count) {
    const int got = gzread(file_.get(), out, static_cast<unsigned>(count));
    if (got < 0) {
      int code = Z_OK;
      gzerror(file_.get(), &code);
      throw DataError(code == Z_ERRNO ? path_ + ": cannot read: " + zlib_message()
                                      : path_ + ": corrupt gzip data (" + zlib_message() + ")");
    }
    return static_cast<size_t>(got);
  }

  // The magic number or one size: 4 bytes.
  void read_header_field(unsigned char* out) {
    size_t have = 0;
    while (have < 4) {
      const size_t got = read_some(out + have, 4 - have);
      if (got == 0) throw truncated(" in the IDX header");
      have += got;
    }
  }

  // "path: truncated" and `detail`, with zlib's reason if it has one.
  DataError truncated(const std::string& detail) {
    std::string message = path_ + ": truncated" + detail;
    // zlib reports a gzip stream cut short as "unexpected end of file".
    int code = Z_OK;
    gzerror(file_.get(), &code);
    if (code != Z_OK) message += " (" + zlib_message() + ")";
    return DataError(message);
  }

  std::string zlib_message() {
    int code = Z_OK;
    const char* text = gzerror(file_.get(), &code);
    if (code == Z_ERRNO) return std::strerror(errno);
    std::string message = text != nullptr ? text : "";
    // zlib puts the path in front of its message; ours already begins with it.
    if (message.starts_with(path_ + ": ")) message.erase(0, path_.size() + 2);
    return message.empty() ? "zlib error " + std::to_string(code) : message;
  }

  std::string path_;
  GzFile file_;
};

// "28x28 images (784 values)"
std::string describe_images(size_t rows, size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols) + " images (" +
         std::to_string(rows * cols) + " values)";
}

[[noreturn]] void throw_label_outside(const std::string& path, size_t index, uint8_t label,
                                      size_t classes) {
  throw DataError(path + ": sample " + std::to_string(index) + " has label " +
                  std::to_string(label) + ", outside the model's " + std::to_string(classes) +
                  " classes");
}

}  // namespace

IdxDataset::IdxDataset(std::string images_path, std::string labels_path)
    : images_path_(std::move(images_path)), labels_path_(std::move(labels_path)) {
  IdxReader images(images_path_);
  const std::vector<size_t> image_dims = images.read_header(kImagesMagic, "images");
  const size_t image_count = image_dims[0];
  rows_ = image_dims[1];
  cols_ = image_dims[2];
  if (rows_ == 0 || cols_ == 0)
    throw DataError(images_path_ + ": images of " + std::to_string(rows_) + "x" +
                    std::to_string(cols_) + " pixels");
  // rows and cols are below 2^32, so only the count can overflow the product.
  if (image_count > std::numeric_limits<size_t>::max() / (rows_ * cols_))
    throw DataError(images_path_ + ": the header declares more pixels than memory can hold");

  if (image_count == 0) throw DataError(images_path_ + ": holds no images");
  count_ = image_count;
  if (labels_path_.empty()) {
    images.read_data(image_count * rows_ * cols_, pixels_, "pixels");
    return;
  }
  IdxReader labels(labels_path_);
  const size_t label_count = labels.read_header(kLabelsMagic, "labels")[0];
  if (label_count != image_count)
    throw DataError(labels_path_ + " holds " + std::to_string(label_count) + " labels but " +
                    images_path_ + " holds " + std::to_string(image_count) + " images");

  images.read_data(image_count * rows_ * cols_, pixels_, "pixels");
  labels.read_data(label_count, labels_, "labels");
}

void IdxDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < size(), "sample index out of range");
  const size_t pixels = rows_ * cols_;
  if (!data::is_one_view_of(inputs, pixels))
    data::throw_input_mismatch(images_path_, describe_images(rows_, cols_), inputs);
  const uint8_t* image = pixels_.data() + index * pixels;
  float* input = inputs[0].data();
  for (size_t i = 0; i < pixels; ++i) input[i] = static_cast<float>(image[i]) / 255.0f;

  if (labels.empty()) return;  // a model without a loss
  if (labels_path_.empty())
    throw DataError(images_path_ + ": opened without a labels file, but the model asks for labels");
  if (labels.size() != 1)
    data::throw_label_mismatch(labels_path_, "one class index per sample", labels);
  const size_t classes = labels[0].size();
  if (labels_[index] >= classes) throw_label_outside(labels_path_, index, labels_[index], classes);
  labels[0].fill(0.0f);
  labels[0][labels_[index]] = 1.0f;
}

std::vector<size_t> IdxDataset::class_labels() const {
  return std::vector<size_t>(labels_.begin(), labels_.end());
}

void IdxDataset::check_fits(const TensorShape& input_sample_shape, size_t num_classes) const {
  const size_t pixels = rows_ * cols_;
  if (input_sample_shape.feature_size() != pixels)
    throw DataError(images_path_ + ": samples are " + describe_images(rows_, cols_) +
                    " but the model's input takes " + input_sample_shape.with_batch(1).str() +
                    " (" + std::to_string(input_sample_shape.feature_size()) + " values)");
  if (num_classes == 0) return;
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] >= num_classes) throw_label_outside(labels_path_, i, labels_[i], num_classes);
}

// ---------------------------------------------------------------- streaming

namespace {

uint32_t big_endian_at(const unsigned char* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

// " (unexpected end of file)" after a truncation message when the gzip stream was cut
// short, as IdxReader says it.
std::string note(const data::StreamFile& file) {
  return file.truncation_note().empty() ? "" : " (" + file.truncation_note() + ")";
}

// Reads and checks an IDX header from the content of `file`, as IdxReader::read_header;
// returns the sizes and sets `header_bytes`.
std::vector<size_t> stream_header(const data::StreamFile& file, uint32_t expected_magic,
                                  const char* kind, uint64_t& header_bytes) {
  std::array<unsigned char, 4> field{};
  auto read_field = [&](uint64_t offset) {
    if (file.size() < offset + 4)
      throw DataError(file.path() + ": truncated in the IDX header" + note(file));
    file.read(offset, field.data(), 4);
    return big_endian_at(field.data());
  };
  const uint32_t found = read_field(0);
  if (found != expected_magic)
    throw DataError(file.path() + ": not an IDX " + kind + " file (magic " + hex32(found) +
                    ", expected " + hex32(expected_magic) + ")");
  std::vector<size_t> dims(expected_magic & 0xff);
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = read_field(4 + 4 * i);
  header_bytes = 4 + 4 * dims.size();
  return dims;
}

}  // namespace

StreamingIdxDataset::StreamingIdxDataset(std::string images_path, std::string labels_path,
                                         StreamOptions options)
    : images_path_(std::move(images_path)), labels_path_(std::move(labels_path)) {
  images_ =
      std::make_unique<data::StreamFile>(data::StreamFile::open(images_path_, options.cache_dir));
  const std::vector<size_t> image_dims =
      stream_header(*images_, kImagesMagic, "images", pixels_offset_);
  const size_t image_count = image_dims[0];
  rows_ = image_dims[1];
  cols_ = image_dims[2];
  if (rows_ == 0 || cols_ == 0)
    throw DataError(images_path_ + ": images of " + std::to_string(rows_) + "x" +
                    std::to_string(cols_) + " pixels");
  if (image_count > std::numeric_limits<size_t>::max() / (rows_ * cols_))
    throw DataError(images_path_ + ": the header declares more pixels than memory can hold");
  if (image_count == 0) throw DataError(images_path_ + ": holds no images");
  count_ = image_count;

  auto check_pixels = [&] {
    const uint64_t expected = uint64_t{image_count} * rows_ * cols_;
    const uint64_t found = images_->size() - pixels_offset_;
    if (found < expected)
      throw DataError(images_path_ + ": truncated: expected " + std::to_string(expected) +
                      " pixels, found " + std::to_string(found) + note(*images_));
    if (found > expected)
      throw DataError(images_path_ + ": more data than the " + std::to_string(expected) +
                      " pixels its header declares");
  };
  if (labels_path_.empty()) {
    check_pixels();
    return;
  }
  // The labels are small and held in memory, read as IdxDataset reads them.
  IdxReader labels(labels_path_);
  const size_t label_count = labels.read_header(kLabelsMagic, "labels")[0];
  if (label_count != image_count)
    throw DataError(labels_path_ + " holds " + std::to_string(label_count) + " labels but " +
                    images_path_ + " holds " + std::to_string(image_count) + " images");
  check_pixels();
  labels.read_data(label_count, labels_, "labels");
}

StreamingIdxDataset::~StreamingIdxDataset() = default;

const std::string& StreamingIdxDataset::cache_path() const { return images_->cache_path(); }

void StreamingIdxDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < size(), "sample index out of range");
  const size_t pixels = rows_ * cols_;
  if (!data::is_one_view_of(inputs, pixels))
    data::throw_input_mismatch(images_path_, describe_images(rows_, cols_), inputs);
  // The image comes through a small buffer on the stack: no allocation, and safe from
  // several threads at once.
  constexpr size_t kBuffer = 4096;
  std::array<uint8_t, kBuffer> buffer;
  float* input = inputs[0].data();
  const uint64_t first = pixels_offset_ + uint64_t{index} * pixels;
  for (size_t done = 0; done < pixels;) {
    const size_t count = std::min(kBuffer, pixels - done);
    images_->read(first + done, buffer.data(), count);
    for (size_t i = 0; i < count; ++i) input[done + i] = static_cast<float>(buffer[i]) / 255.0f;
    done += count;
  }

  if (labels.empty()) return;  // a model without a loss
  if (labels_path_.empty())
    throw DataError(images_path_ + ": opened without a labels file, but the model asks for labels");
  if (labels.size() != 1)
    data::throw_label_mismatch(labels_path_, "one class index per sample", labels);
  const size_t classes = labels[0].size();
  if (labels_[index] >= classes) throw_label_outside(labels_path_, index, labels_[index], classes);
  labels[0].fill(0.0f);
  labels[0][labels_[index]] = 1.0f;
}

std::vector<size_t> StreamingIdxDataset::class_labels() const {
  return std::vector<size_t>(labels_.begin(), labels_.end());
}

void StreamingIdxDataset::check_fits(const TensorShape& input_sample_shape,
                                     size_t num_classes) const {
  const size_t pixels = rows_ * cols_;
  if (input_sample_shape.feature_size() != pixels)
    throw DataError(images_path_ + ": samples are " + describe_images(rows_, cols_) +
                    " but the model's input takes " + input_sample_shape.with_batch(1).str() +
                    " (" + std::to_string(input_sample_shape.feature_size()) + " values)");
  if (num_classes == 0) return;
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] >= num_classes) throw_label_outside(labels_path_, i, labels_[i], num_classes);
}

}  // namespace edgetrain
