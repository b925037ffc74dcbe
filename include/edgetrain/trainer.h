// Options of a training run beyond the model itself: where results go and when to stop.
// Set from the [Model] section of a model file, the CLI, or the C++ API.
#pragma once

#include <cstddef>
#include <string>

namespace edgetrain {

struct EarlyStopping {
  size_t patience = 0;                 // epochs without improvement before stopping; 0: off
  std::string monitor = "val_loss";    // val_loss, val_accuracy, loss (training), accuracy
  float min_delta = 0.0f;              // smaller improvements do not count
};

struct TrainerOptions {
  std::string save_path;     // final weights; best/last checkpoints are written beside it
  std::string metrics_path;  // per-epoch metrics as CSV; empty: none
  bool shuffle = true;
  bool drop_last = false;    // drop a last partial batch (NNTrainer always does)
  EarlyStopping early_stopping;

  // Keys: save_path, metrics_path, shuffle, drop_last, patience, monitor, min_delta.
  // Returns false for other keys; throws PropertyError naming `owner` on a bad value.
  bool set_property(const std::string& key, const std::string& value, const std::string& owner);
  static std::string property_keys();
};

}  // namespace edgetrain
