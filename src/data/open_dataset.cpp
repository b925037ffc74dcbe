#include <iostream>
#include <map>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

namespace {

// "csv" with stream: CSV rows have no fixed size, so the file is parsed into memory.
void check_streams(const DatasetSpec& spec, const std::string& type) {
  if (spec.stream && type == "csv")
    throw DataError("stream = true: dataset type 'csv' does not stream (idx and file do); " +
                    spec.path + " would be read into memory");
}

std::unique_ptr<Dataset> open_idx(const DatasetSpec& spec, const std::string& labels,
                                  const TensorShape& input_sample_shape, size_t num_classes) {
  if (spec.stream) {
    auto data = std::make_unique<StreamingIdxDataset>(spec.images, labels,
                                                      StreamOptions{.cache_dir = spec.cache_dir});
    data->check_fits(input_sample_shape, num_classes);
    return data;
  }
  auto data = std::make_unique<IdxDataset>(spec.images, labels);
  data->check_fits(input_sample_shape, num_classes);
  return data;
}

std::unique_ptr<Dataset> open_raw(const DatasetSpec& spec, size_t input_size, size_t label_size) {
  if (spec.stream)
    return std::make_unique<StreamingRawFloatDataset>(spec.path, input_size, label_size);
  return std::make_unique<RawFloatDataset>(spec.path, input_size, label_size);
}

// The samples of an autoencoder's data: inputs only, the label being the input.
std::unique_ptr<Dataset> open_inputs(const DatasetSpec& spec, const std::string& type,
                                     const TensorShape& input_sample_shape, size_t label_size) {
  const size_t input_size = input_sample_shape.feature_size();
  // label_size 0: a model without a loss, which reads no label.
  if (label_size != 0 && label_size != input_size)
    throw DataError("target = input makes the label the input (" + input_sample_shape.str() + ", " +
                    std::to_string(input_size) + " values), but the loss takes " +
                    std::to_string(label_size) + " values per sample");
  if (type == "idx") {
    if (spec.images.empty()) throw DataError("dataset type 'idx' needs an 'images' file");
    if (!spec.labels.empty())
      throw DataError("dataset type 'idx' with target = input reads no 'labels' file");
    return std::make_unique<AutoencoderDataset>(open_idx(spec, "", input_sample_shape, 0));
  }
  if (type != "csv" && type != "file")
    throw DataError("unknown dataset type '" + spec.type +
                    "' (known: idx, csv, file, image_folder)");
  if (spec.path.empty()) throw DataError("dataset type '" + type + "' needs a 'path'");
  check_streams(spec, type);
  if (type == "csv") {
    CsvDataset::Options options;
    options.one_hot = false;  // no label columns: every column is an input value
    return std::make_unique<AutoencoderDataset>(
        std::make_unique<CsvDataset>(spec.path, input_size, 0, options));
  }
  return std::make_unique<AutoencoderDataset>(open_raw(spec, input_size, 0));
}

// The images of spec.part: the whole folder, or a part of its split.
ImageFolderListing image_folder_part(const DatasetSpec& spec) {
  if (spec.part == DatasetSpec::Part::all) return list_image_folder(spec.path);
  const ImageFolderSplitFile split = load_or_make_split(spec.path, spec.split);
  ImageFolderListing listing;
  listing.root = spec.path;
  listing.classes = split.classes;
  std::map<std::string, size_t> label_of;
  for (size_t label = 0; label < split.classes.size(); ++label)
    label_of[split.classes[label]] = label;
  const std::vector<std::string>& files = spec.part == DatasetSpec::Part::train ? split.train
                                          : spec.part == DatasetSpec::Part::validation
                                              ? split.validation
                                              : split.test;
  for (const std::string& file : files) {
    listing.files.push_back(file);
    // read_split_file() checked that every file is in a class folder.
    listing.labels.push_back(label_of.at(file.substr(0, file.find('/'))));
  }
  return listing;
}

std::unique_ptr<Dataset> open_image_folder(const DatasetSpec& spec,
                                           const TensorShape& input_sample_shape,
                                           size_t label_size) {
  if (spec.path.empty())
    throw DataError("dataset type 'image_folder' needs a 'path' (the folder of class folders)");
  if (spec.target_is_input)
    throw DataError(
        "dataset type 'image_folder' labels images by their class folder; it "
        "does not take target = input");
  if (spec.stream)
    throw DataError(
        "stream = true: dataset type 'image_folder' decodes its images once, when "
        "it is opened; it does not stream");
  const bool trains = spec.part == DatasetSpec::Part::train || spec.part == DatasetSpec::Part::all;
  auto data = std::make_unique<ImageFolderDataset>(
      image_folder_part(spec), input_sample_shape, label_size,
      ImageFolderDataset::Options{.skip_corrupt = spec.skip_corrupt,
                                  .augmentation = trains ? spec.augmentation : Augmentation{},
                                  .normalization = spec.normalization});
  for (const std::string& skipped : data->skipped())
    std::cerr << "edgetrain: warning: skipped (skip_corrupt = true): " << skipped << std::endl;
  return data;
}

std::unique_ptr<Dataset> open(const DatasetSpec& spec, const std::string& type,
                              const TensorShape& input_sample_shape, size_t label_size) {
  if (type == "image_folder") return open_image_folder(spec, input_sample_shape, label_size);
  if (spec.target_is_input) return open_inputs(spec, type, input_sample_shape, label_size);
  const size_t input_size = input_sample_shape.feature_size();
  if (type == "idx") {
    if (spec.images.empty() || spec.labels.empty())
      throw DataError("dataset type 'idx' needs both 'images' and 'labels' files");
    return open_idx(spec, spec.labels, input_sample_shape, label_size);
  }
  if (type != "csv" && type != "file")
    throw DataError("unknown dataset type '" + spec.type +
                    "' (known: idx, csv, file, image_folder)");
  if (spec.path.empty()) throw DataError("dataset type '" + type + "' needs a 'path'");
  check_streams(spec, type);
  if (type == "csv") return std::make_unique<CsvDataset>(spec.path, input_size, label_size);
  return open_raw(spec, input_size, label_size);
}

}  // namespace

std::unique_ptr<Dataset> open_dataset(const DatasetSpec& spec,
                                      const TensorShape& input_sample_shape, size_t label_size) {
  try {
    return open(spec, to_lower(spec.type), input_sample_shape, label_size);
  } catch (const DataError& error) {
    if (spec.origin.empty()) throw;
    throw DataError(spec.origin + ": " + error.what());
  }
}

}  // namespace edgetrain
