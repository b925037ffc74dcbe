#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

namespace {

std::unique_ptr<Dataset> open(const DatasetSpec& spec, const std::string& type,
                              const TensorShape& input_sample_shape, size_t label_size) {
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
