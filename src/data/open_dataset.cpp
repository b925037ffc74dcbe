#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

namespace {

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
    auto images = std::make_unique<IdxDataset>(spec.images, "");
    images->check_fits(input_sample_shape, 0);
    return std::make_unique<AutoencoderDataset>(std::move(images));
  }
  if (type != "csv" && type != "file")
    throw DataError("unknown dataset type '" + spec.type + "' (known: idx, csv, file)");
  if (spec.path.empty()) throw DataError("dataset type '" + type + "' needs a 'path'");
  if (type == "csv") {
    CsvDataset::Options options;
    options.one_hot = false;  // no label columns: every column is an input value
    return std::make_unique<AutoencoderDataset>(
        std::make_unique<CsvDataset>(spec.path, input_size, 0, options));
  }
  return std::make_unique<AutoencoderDataset>(
      std::make_unique<RawFloatDataset>(spec.path, input_size, 0));
}

std::unique_ptr<Dataset> open(const DatasetSpec& spec, const std::string& type,
                              const TensorShape& input_sample_shape, size_t label_size) {
  if (spec.target_is_input) return open_inputs(spec, type, input_sample_shape, label_size);
  const size_t input_size = input_sample_shape.feature_size();
  if (type == "idx") {
    if (spec.images.empty() || spec.labels.empty())
      throw DataError("dataset type 'idx' needs both 'images' and 'labels' files");
    auto data = std::make_unique<IdxDataset>(spec.images, spec.labels);
    data->check_fits(input_sample_shape, label_size);
    return data;
  }
  if (type != "csv" && type != "file")
    throw DataError("unknown dataset type '" + spec.type + "' (known: idx, csv, file)");
  if (spec.path.empty()) throw DataError("dataset type '" + type + "' needs a 'path'");
  if (type == "csv") return std::make_unique<CsvDataset>(spec.path, input_size, label_size);
  return std::make_unique<RawFloatDataset>(spec.path, input_size, label_size);
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
