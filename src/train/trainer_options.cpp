#include "edgetrain/properties.h"
#include "edgetrain/trainer.h"

namespace edgetrain {

bool TrainerOptions::set_property(const std::string& key, const std::string& value,
                                  const std::string& owner) {
  if (key == "save_path") {
    save_path = value;
  } else if (key == "metrics_path") {
    metrics_path = value;
  } else if (key == "shuffle") {
    shuffle = parse_bool(value, owner, key);
  } else if (key == "drop_last") {
    drop_last = parse_bool(value, owner, key);
  } else if (key == "patience") {
    early_stopping.patience = parse_count(value, owner, key);
  } else if (key == "monitor") {
    early_stopping.monitor =
        parse_choice(value, {"val_loss", "val_accuracy", "loss", "accuracy"}, owner, key);
  } else if (key == "best_monitor") {
    best_monitor =
        parse_choice(value, {"val_loss", "val_accuracy", "loss", "accuracy"}, owner, key);
  } else if (key == "min_delta") {
    early_stopping.min_delta = parse_non_negative_float(value, owner, key);
  } else {
    return false;
  }
  return true;
}

namespace {

std::string without_extension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path;
  return path.substr(0, dot);
}

}  // namespace

std::string TrainerOptions::last_checkpoint_path() const {
  return save_path.empty() ? "" : without_extension(save_path) + ".last.ckpt";
}

std::string TrainerOptions::best_checkpoint_path() const {
  return save_path.empty() ? "" : without_extension(save_path) + ".best.ckpt";
}

std::string TrainerOptions::property_keys() {
  return "save_path, metrics_path, shuffle, drop_last, patience, monitor, min_delta, best_monitor";
}

}  // namespace edgetrain
