// Image folders: one sub-folder per class, images decoded by stb_image and resized by
// stb_image_resize (Debian's libstb-dev) to the model's input once, at construction.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>

#include "data/view_checks.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/properties.h"

// The one translation unit with stb_image's and stb_image_resize's code, kept static so
// it cannot clash with another copy linked into an application; the third-party headers
// are not held to our warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#include <stb/stb_image_resize.h>
#pragma GCC diagnostic pop

namespace edgetrain {

namespace {

namespace fs = std::filesystem;

bool is_image_file(const fs::path& path) {
  const std::string extension = to_lower(path.extension().string());
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

bool is_hidden(const fs::path& path) { return path.filename().string().starts_with('.'); }

// The entries of `folder` in byte order of their names.
std::vector<fs::directory_entry> sorted_entries(const fs::path& folder) {
  std::error_code error;
  fs::directory_iterator it(folder, error);
  if (error) throw DataError(folder.string() + ": cannot read the folder: " + error.message());
  std::vector<fs::directory_entry> entries;
  for (const fs::directory_entry& entry : it)
    if (!is_hidden(entry.path())) entries.push_back(entry);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.path().filename().string() < b.path().filename().string();
  });
  return entries;
}

struct StbiFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

}  // namespace

ImageFolderListing list_image_folder(const std::string& root) {
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw DataError(root + ": " + (fs::exists(root, error) ? "is not a folder" : "no such folder") +
                    "; an image_folder data set is a folder with one sub-folder of images per "
                    "class");
  ImageFolderListing listing;
  listing.root = root;
  for (const fs::directory_entry& class_folder : sorted_entries(root)) {
    if (!class_folder.is_directory(error)) continue;
    const std::string name = class_folder.path().filename().string();
    const size_t label = listing.classes.size();
    size_t images = 0;
    for (const fs::directory_entry& file : sorted_entries(class_folder.path())) {
      if (!file.is_regular_file(error) || !is_image_file(file.path())) continue;
      listing.files.push_back(name + "/" + file.path().filename().string());
      listing.labels.push_back(label);
      ++images;
    }
    // A class without images could never be predicted: more likely a mistake (a folder
    // not yet filled) than meant, and it would shift no index silently if left out.
    if (images == 0)
      throw DataError(class_folder.path().string() +
                      ": the class folder holds no images (.png, .jpg, .jpeg, .bmp); add "
                      "images or remove the folder");
    listing.classes.push_back(name);
  }
  if (listing.classes.size() < 2)
    throw DataError(root + ": " +
                    (listing.classes.empty() ? std::string("no class folders")
                                             : "one class folder ('" + listing.classes[0] + "')") +
                    "; a classifier needs at least 2, one sub-folder of images per class");
  return listing;
}

std::vector<uint8_t> resize_image_bytes(std::span<const uint8_t> pixels, size_t channels,
                                        size_t height, size_t width, size_t new_height,
                                        size_t new_width) {
  ET_ASSERT(pixels.size() == channels * height * width, "resize: pixels do not match the size");
  if (height == new_height && width == new_width)
    return std::vector<uint8_t>(pixels.begin(), pixels.end());
  std::vector<uint8_t> resized(channels * new_height * new_width);
  const int ok = stbir_resize_uint8_generic(
      pixels.data(), static_cast<int>(width), static_cast<int>(height), 0, resized.data(),
      static_cast<int>(new_width), static_cast<int>(new_height), 0, static_cast<int>(channels),
      STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR,
      nullptr);
  if (ok == 0) throw DataError("cannot resize an image (stb_image_resize ran out of memory)");
  return resized;
}

std::vector<uint8_t> load_image_bytes(const std::string& path, size_t channels, size_t height,
                                      size_t width) {
  if (channels != 1 && channels != 3)
    throw DataError(path +
                    ": images are read as 1 (grayscale) or 3 (RGB) channels; the model's "
                    "input has " +
                    std::to_string(channels));
  int file_width = 0, file_height = 0, file_channels = 0;
  std::unique_ptr<stbi_uc, StbiFree> decoded(stbi_load(path.c_str(), &file_width, &file_height,
                                                       &file_channels, static_cast<int>(channels)));
  if (decoded == nullptr)
    throw DataError(path + ": cannot decode the image (" + stbi_failure_reason() + ")");
  const size_t pixels = static_cast<size_t>(file_width) * static_cast<size_t>(file_height);
  const std::vector<uint8_t> resized = resize_image_bytes(
      {decoded.get(), pixels * channels}, channels, static_cast<size_t>(file_height),
      static_cast<size_t>(file_width), height, width);
  // stb works in H:W:C (interleaved); the model in C:H:W.
  std::vector<uint8_t> planar(resized.size());
  const size_t plane = height * width;
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < channels; ++c) planar[c * plane + p] = resized[p * channels + c];
  return planar;
}

ImageFolderDataset::ImageFolderDataset(ImageFolderListing listing,
                                       const TensorShape& input_sample_shape, size_t num_classes,
                                       Options options)
    : root_(std::move(listing.root)),
      classes_(std::move(listing.classes)),
      sample_shape_(input_sample_shape.with_batch(1)),
      options_(std::move(options)) {
  ET_ASSERT(listing.files.size() == listing.labels.size(), "one label per file");
  if (num_classes != 0 && num_classes != classes_.size()) {
    std::string names;
    for (const std::string& name : classes_) names += (names.empty() ? "" : ", ") + name;
    throw DataError(root_ + ": " + std::to_string(classes_.size()) + " classes (" + names +
                    ") but the model's output has " + std::to_string(num_classes) +
                    " units; make the last layer's Unit " + std::to_string(classes_.size()));
  }
  check_augmentation(options_.augmentation, sample_shape_.height, sample_shape_.width);
  check_normalization(options_.normalization, sample_shape_.channel);
  const size_t sample_size = sample_shape_.feature_size();
  pixels_.reserve(listing.files.size() * sample_size);
  for (size_t i = 0; i < listing.files.size(); ++i) {
    ET_ASSERT(listing.labels[i] < classes_.size(), "label outside the classes");
    const std::string path = (fs::path(root_) / listing.files[i]).string();
    try {
      const std::vector<uint8_t> image =
          load_image_bytes(path, sample_shape_.channel, sample_shape_.height, sample_shape_.width);
      pixels_.insert(pixels_.end(), image.begin(), image.end());
    } catch (const DataError& error) {
      if (!options_.skip_corrupt) throw;
      skipped_.push_back(error.what());
      continue;
    }
    files_.push_back(std::move(listing.files[i]));
    labels_.push_back(listing.labels[i]);
  }
  pixels_.shrink_to_fit();
}

void ImageFolderDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  read_sample(index, inputs, labels, nullptr);
}

void ImageFolderDataset::read_augmented(size_t index, std::span<Tensor> inputs,
                                        std::span<Tensor> labels, uint64_t seed) {
  if (!augments()) return read_sample(index, inputs, labels, nullptr);
  Rng rng(seed);
  read_sample(index, inputs, labels, &rng);
}

void ImageFolderDataset::read_sample(size_t index, std::span<Tensor> inputs,
                                     std::span<Tensor> labels, Rng* rng) {
  ET_ASSERT(index < size(), "sample index out of range");
  const size_t sample_size = sample_shape_.feature_size();
  if (!data::is_one_view_of(inputs, sample_size))
    data::throw_input_mismatch(root_, "images of " + sample_shape_.str(), inputs);
  if (!labels.empty() && !data::is_one_view_of(labels, classes_.size()))
    data::throw_label_mismatch(
        root_, "one-hot over " + std::to_string(classes_.size()) + " classes", labels);
  const uint8_t* pixels = pixels_.data() + index * sample_size;
  float* values = inputs[0].data();
  for (size_t i = 0; i < sample_size; ++i) values[i] = static_cast<float>(pixels[i]) / 255.0f;
  const Tensor sample(values, sample_shape_);
  if (rng != nullptr) augment_image(sample, options_.augmentation, *rng);
  normalize_image(sample, options_.normalization);
  if (labels.empty()) return;
  float* label = labels[0].data();
  std::fill_n(label, classes_.size(), 0.0f);
  label[labels_[index]] = 1.0f;
}

}  // namespace edgetrain
