#include "optim/reduce_on_plateau_scheduler.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {
namespace {

// A double as exact text, or "none" for an unset one.
std::string exact_text(const std::optional<double>& value) {
  if (!value) return "none";
  std::ostringstream text;
  text << std::hexfloat << *value;
  return text.str();
}

}  // namespace

bool ReduceOnPlateauScheduler::set_property(const std::string& key, const std::string& value,
                                            const std::string& owner) {
  if (key == "monitor") {
    monitor_ = parse_choice(value, {"val_loss", "val_accuracy", "loss", "accuracy"}, owner, key);
  } else if (key == "factor") {
    // PyTorch refuses a factor of 1 or more: the rate would never go down.
    factor_ = parse_fraction(value, owner, key);
  } else if (key == "patience") {
    patience_ = parse_count(value, owner, key);
  } else if (key == "threshold") {
    threshold_ = parse_non_negative_float(value, owner, key);
  } else if (key == "threshold_mode") {
    relative_threshold_ = parse_choice(value, {"rel", "abs"}, owner, key) == "rel";
  } else if (key == "cooldown") {
    cooldown_ = parse_count(value, owner, key);
  } else if (key == "min_lr") {
    min_lr_ = parse_non_negative_float(value, owner, key);
  } else if (key == "eps") {
    eps_ = parse_non_negative_float(value, owner, key);
  } else if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_non_negative_float(value, owner, key);
  } else {
    return false;
  }
  return true;
}

float ReduceOnPlateauScheduler::learning_rate(size_t, float base_learning_rate) const {
  return static_cast<float>(current_rate_.value_or(learning_rate_.value_or(base_learning_rate)));
}

bool ReduceOnPlateauScheduler::is_better(double metric) const {
  if (!best_) return true;
  if (minimizes())
    return relative_threshold_ ? metric < *best_ * (1.0 - threshold_)
                               : metric < *best_ - threshold_;
  return relative_threshold_ ? metric > *best_ * (1.0 + threshold_) : metric > *best_ + threshold_;
}

void ReduceOnPlateauScheduler::epoch_end(double metric, float base_learning_rate) {
  if (is_better(metric)) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > patience_) {
    const double rate = current_rate_.value_or(learning_rate_.value_or(base_learning_rate));
    const double reduced = std::max(rate * factor_, min_lr_);
    if (rate - reduced > eps_) current_rate_ = reduced;
    cooldown_left_ = cooldown_;
    bad_epochs_ = 0;
  }
}

std::vector<std::string> ReduceOnPlateauScheduler::state() const {
  return {"rate=" + exact_text(current_rate_), "best=" + exact_text(best_),
          "bad_epochs=" + std::to_string(bad_epochs_),
          "cooldown_left=" + std::to_string(cooldown_left_)};
}

void ReduceOnPlateauScheduler::set_state(const std::vector<std::string>& state,
                                         const std::string& origin) {
  std::map<std::string, std::string> values;
  for (const std::string& text : state) {
    const size_t equals = text.find('=');
    if (equals != std::string::npos) values[text.substr(0, equals)] = text.substr(equals + 1);
  }
  auto get = [&](const char* key) -> const std::string& {
    auto found = values.find(key);
    if (found == values.end())
      throw Error(origin + ": no reduce_on_plateau state '" + key + "' in the checkpoint");
    return found->second;
  };
  auto number = [&](const char* key) -> std::optional<double> {
    const std::string& text = get(key);
    if (text == "none") return std::nullopt;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
      throw Error(origin + ": reduce_on_plateau state '" + key + "' is '" + text +
                  "', not a number");
    return value;
  };
  auto count = [&](const char* key) -> size_t {
    const std::string& text = get(key);
    size_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      throw Error(origin + ": reduce_on_plateau state '" + key + "' is '" + text +
                  "', not a count");
    return value;
  };
  current_rate_ = number("rate");
  best_ = number("best");
  bad_epochs_ = count("bad_epochs");
  cooldown_left_ = count("cooldown_left");
}

}  // namespace edgetrain
