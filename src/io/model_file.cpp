#include "edgetrain/model_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "io/ini_parser.h"
#include "layers/activation_functions.h"
#include "optim/registry.h"

namespace edgetrain {
namespace {

// One key of a section, with the place it came from, for messages.
struct Setting {
  std::string key;  // lower-case
  std::string value;
  std::string where;      // "model.ini:12", or "override 'epochs=3'"
  bool from_file = true;  // relative paths from the file resolve against its folder
};

struct Section {
  std::string name;  // as written
  std::string where;
  std::vector<Setting> settings;  // in file order, then overrides

  const Setting* find(const std::string& key) const {
    for (const Setting& setting : settings)
      if (setting.key == key) return &setting;
    return nullptr;
  }
};

// The sections that are not layers, by lower-case name.
const std::vector<std::string> kFixedSections = {
    "model", "optimizer", "learningratescheduler", "train_set", "valid_set", "test_set", "dataset"};
// The ones an override may add when the file lacks them; a layer needs more than one key.
const std::vector<std::string> kAddableSections = {
    "model", "optimizer", "learningratescheduler", "train_set", "valid_set", "test_set"};

// Keys every layer section takes besides its layer's own properties. LayerNode handles
// input_shape and trainable; the reader handles the rest.
const std::vector<std::string> kLayerSectionKeys = {"type",      "input_layers", "input_shape",
                                                    "trainable", "activation",   "flatten"};

// NNTrainer layer keys without an edgetrain equivalent, and what to do instead.
const std::string kNoRegularizer =
    "edgetrain has no per-layer regularizer; weight_decay in [Optimizer] applies L2 to every "
    "weight";
const std::string kNoPreprocessing =
    "edgetrain does not preprocess inputs; scale the data set instead";
const std::map<std::string, std::string> kNNTrainerKeyHints = {
    {"weight_regularizer", kNoRegularizer},
    {"weight_regularizer_constant", kNoRegularizer},
    {"weight_decay", kNoRegularizer},
    {"bias_init_zero", "use bias_initializer = zeros, the default"},
    {"normalization", kNoPreprocessing},
    {"standardization", kNoPreprocessing},
};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw ModelFileError(where + ": " + message);
}

// Runs `action`; an edgetrain error it throws (a bad property, an unknown type) becomes a
// ModelFileError at `where`, keeping its message.
template <typename Action>
decltype(auto) at(const std::string& where, Action&& action) {
  try {
    return action();
  } catch (const Error& error) {
    fail(where, error.what());
  }
}

const Setting& require_type(const Section& section) {
  const Setting* type = section.find("type");
  if (type == nullptr) fail(section.where, "section [" + section.name + "] has no Type");
  return *type;
}

std::vector<Section> read_sections(const std::string& path) {
  std::vector<Section> sections;
  for (const IniSection& ini : read_ini_file(path).sections) {
    Section section{ini.name, path + ":" + std::to_string(ini.line), {}};
    for (const IniEntry& entry : ini.entries)
      section.settings.push_back(
          {to_lower(entry.key), entry.value, path + ":" + std::to_string(entry.line), true});
    sections.push_back(std::move(section));
  }
  return sections;
}

Section* find_section(std::vector<Section>& sections, const std::string& name) {
  for (Section& section : sections)
    if (to_lower(section.name) == to_lower(name)) return &section;
  return nullptr;
}

// Applies one "section.key=value" or "key=value" (for [Model]) on top of the file. The
// section is split at the last '.', so that layer names may contain dots.
void apply_override(std::vector<Section>& sections, const std::string& text,
                    const std::string& path) {
  const std::string where = "override '" + text + "'";
  const size_t equals = text.find('=');
  const std::string target = trim(text.substr(0, equals));
  const size_t dot = target.rfind('.');
  const std::string section_name = dot == std::string::npos ? "Model" : trim(target.substr(0, dot));
  const std::string key = to_lower(dot == std::string::npos ? target : target.substr(dot + 1));
  if (equals == std::string::npos || key.empty() || section_name.empty())
    fail(where, "expected section.key=value, or key=value for [Model]");
  Section* section = find_section(sections, section_name);
  if (section == nullptr) {
    if (!contains(kAddableSections, to_lower(section_name)))
      fail(where, path + " has no section [" + section_name +
                      "]; an override can add [Model], [Optimizer], [LearningRateScheduler], "
                      "[train_set], [valid_set] or [test_set], not a layer");
    sections.push_back({section_name, where, {}});
    section = &sections.back();
  }
  Setting setting{key, trim(text.substr(equals + 1)), where, false};
  for (Setting& existing : section->settings) {
    if (existing.key == key) {
      existing = std::move(setting);
      return;
    }
  }
  section->settings.push_back(std::move(setting));
}

// What the model's loss becomes. NNTrainer's "cross" takes its meaning from the last
// layer's activation, which our fused losses apply themselves (see model_file.h).
struct LossChoice {
  std::string loss;  // a registered loss type, for Model's loss property
  bool fold_final_activation = false;
};

// A layer section and the nodes it adds to the model: the layer itself, then the
// activation and flatten layers that NNTrainer's Activation (on a layer type without its
// own) and Flatten = true put after it.
struct SectionLayers {
  const Section* section = nullptr;
  std::vector<std::unique_ptr<LayerNode>> nodes;
  const Setting* input_layers = nullptr;  // resolved once every section is known
  bool folded = false;  // a final activation layer that Loss = cross folds into the loss

  // What consumers of this section read.
  std::string output() const { return nodes.back()->getName(); }
};

class ModelFileReader {
 public:
  ModelFileReader(const std::string& path, std::vector<Section> sections)
      : path_(path),
        folder_(std::filesystem::path(path).parent_path()),
        sections_(std::move(sections)) {}

  ModelFile read() {
    ModelFile file;
    file.path = path_;
    file.model = std::make_unique<Model>();
    read_model_section(*file.model, file.trainer);
    read_layers(*file.model);
    read_optimizer(*file.model);
    read_scheduler(*file.model);
    read_datasets(file);
    return file;
  }

 private:
  const Section* fixed_section(const std::string& name) const {
    for (const Section& section : sections_)
      if (to_lower(section.name) == name) return &section;
    return nullptr;
  }

  std::string resolve_path(const Setting& setting) const {
    if (setting.value.empty() || !setting.from_file) return setting.value;
    const std::filesystem::path path(setting.value);
    if (path.is_absolute()) return setting.value;
    return (folder_ / path).lexically_normal().string();
  }

  // [Model]: model properties, training options, and NNTrainer's older optimizer keys
  // (Optimizer = TYPE, then the optimizer's properties). The loss is kept for
  // read_layers, as Loss = cross depends on the last layer.
  void read_model_section(Model& model, TrainerOptions& trainer) {
    const Section* section = fixed_section("model");
    if (section == nullptr) return;
    const Setting* optimizer_type = section->find("optimizer");
    if (optimizer_type != nullptr) {
      if (const Section* optimizer_section = fixed_section("optimizer"))
        fail(optimizer_type->where, "the optimizer is set twice: here and in [" +
                                        optimizer_section->name + "] (" + optimizer_section->where +
                                        ")");
      model_section_optimizer_ =
          at(optimizer_type->where, [&] { return new_optimizer(optimizer_type->value); });
    }
    Optimizer* optimizer = model_section_optimizer_.get();
    for (const Setting& setting : section->settings) {
      if (setting.key == "type") {
        // NNTrainer's network kind; both of these are a layer graph trained by gradients.
        const std::string type = to_lower(setting.value);
        if (type != "neuralnetwork" && type != "regression")
          fail(setting.where, "[Model] Type '" + setting.value +
                                  "' is not supported (known: NeuralNetwork, regression)");
      } else if (setting.key == "loss") {
        loss_ = &setting;
      } else if (setting.key == "batch_size" || setting.key == "epochs" || setting.key == "seed" ||
                 setting.key == "memory_planner" || setting.key == "in_place" ||
                 setting.key == "memory_budget" || setting.key == "memory_swap" ||
                 setting.key == "memory_swap_lookahead") {
        at(setting.where, [&] { model.setProperty({setting.key + "=" + setting.value}); });
      } else if (setting.key == "memory_swap_path") {
        at(setting.where,
           [&] { model.setProperty({"memory_swap_path=" + resolve_path(setting)}); });
      } else if (setting.key != "optimizer") {
        const bool is_path = setting.key == "save_path" || setting.key == "metrics_path";
        const std::string value = is_path ? resolve_path(setting) : setting.value;
        if (at(setting.where, [&] { return trainer.set_property(setting.key, value, "model"); }))
          continue;
        if (optimizer == nullptr)
          fail_unknown_model_key(setting, "; optimizer properties go in [Optimizer]");
        const std::string owner = "optimizer '" + optimizer->type() + "'";
        if (!at(setting.where,
                [&] { return optimizer->set_property(setting.key, setting.value, owner); }))
          fail_unknown_model_key(setting, ", and for Optimizer = " + optimizer->type() + ": " +
                                              optimizer->property_keys());
      }
    }
    if (optimizer != nullptr)
      at(optimizer_type->where,
         [&] { optimizer->validate("optimizer '" + optimizer->type() + "'"); });
  }

  [[noreturn]] void fail_unknown_model_key(const Setting& setting, const std::string& extra) const {
    fail(setting.where, "unknown key '" + setting.key + "' in [Model] (known: type, loss, " +
                            "batch_size, epochs, seed, memory_planner, in_place, memory_budget, " +
                            "memory_swap, memory_swap_path, memory_swap_lookahead, " +
                            TrainerOptions::property_keys() + ", optimizer" + extra + ")");
  }

  LossChoice choose_loss(const Section& last_layer) const {
    if (loss_ == nullptr) return {};
    if (to_lower(loss_->value) != "cross") return {to_lower(loss_->value), false};
    const Setting* activation = last_layer.find("activation");
    if (activation == nullptr) return {"cross_entropy", false};
    const ActivationType type = at(activation->where, [&] {
      return parse_activation(activation->value, "layer '" + last_layer.name + "'", "activation");
    });
    switch (type) {
      case ActivationType::none:
        return {"cross_entropy", false};
      case ActivationType::softmax:
        return {"cross_entropy", true};
      case ActivationType::sigmoid:
        return {"bce_with_logits", true};
      default:
        fail(activation->where, "Loss = cross (" + loss_->where +
                                    ") needs the last layer's activation to be softmax, sigmoid "
                                    "or none, not '" +
                                    activation->value + "'");
    }
  }

  [[noreturn]] static void fail_unknown_layer_key(const Section& section, LayerNode& layer,
                                                  const Setting& setting) {
    std::vector<std::string> known = kLayerSectionKeys;
    for (const std::string& own : split_list(layer.layer().property_keys()))
      if (!contains(known, own)) known.push_back(own);
    std::string message = "unknown key '" + setting.key + "' in [" + section.name + "] (" +
                          layer.getType() + " takes: " + join(known) + ")";
    auto hint = kNNTrainerKeyHints.find(setting.key);
    if (hint != kNNTrainerKeyHints.end()) message += "; " + hint->second;
    fail(setting.where, message);
  }

  SectionLayers build_layers(const Section& section, bool fold_activation) const {
    SectionLayers result;
    result.section = &section;
    const Setting& type = require_type(section);
    std::unique_ptr<LayerNode> layer =
        at(type.where, [&] { return createLayer(type.value, {"name=" + section.name}); });
    const std::string owner = "layer '" + section.name + "' (" + layer->getType() + ")";
    const std::vector<std::string> own_keys = split_list(layer->layer().property_keys());
    const Setting* activation = nullptr;  // one this layer does not apply itself
    const Setting* flatten = nullptr;
    for (const Setting& setting : section.settings) {
      if (setting.key == "type") continue;
      if (setting.key == "name")
        fail(setting.where, "a layer is named by its section; remove 'name'");
      if (setting.key == "input_layers") {
        result.input_layers = &setting;
      } else if (setting.key == "flatten") {
        flatten = &setting;
      } else if (setting.key == "activation" &&
                 (fold_activation || !contains(own_keys, "activation"))) {
        activation = &setting;
      } else if (!contains(own_keys, setting.key) && !contains(kLayerSectionKeys, setting.key)) {
        fail_unknown_layer_key(section, *layer, setting);
      } else {
        at(setting.where, [&] { layer->setProperty({setting.key + "=" + setting.value}); });
      }
    }
    result.folded = fold_activation && layer->getType() == "activation";
    result.nodes.push_back(std::move(layer));
    if (activation != nullptr && !fold_activation) {
      const ActivationType kind = at(activation->where, [&] {
        return parse_activation(activation->value, owner, "activation");
      });
      if (kind != ActivationType::none)
        result.nodes.push_back(createLayer("activation", {"name=" + section.name + "/activation",
                                                          "activation=" + activation->value}));
    }
    if (flatten != nullptr &&
        at(flatten->where, [&] { return parse_bool(flatten->value, owner, "flatten"); })) {
      if (fold_activation)
        fail(flatten->where, "Loss = cross folds the final activation of [" + section.name +
                                 "] into the loss, so it must be the last operation; add a flatten "
                                 "layer before [" +
                                 section.name + "] instead of Flatten = true");
      result.nodes.push_back(createLayer("flatten", {"name=" + section.name + "/flatten"}));
    }
    return result;
  }

  // input_layers with each NAME or NAME(k) pointing at what section NAME outputs, found
  // without regard to case (NNTrainer's names ignore case).
  std::string resolve_inputs(const Setting& setting,
                             const std::map<std::string, const SectionLayers*>& by_name) const {
    std::vector<std::string> inputs;
    for (const std::string& entry : split_list(setting.value)) {
      const size_t open = entry.find('(');
      const std::string name = trim(entry.substr(0, open));
      auto found = by_name.find(to_lower(name));
      if (found == by_name.end()) {
        std::vector<std::string> names;
        for (const auto& [unused, layer] : by_name) names.push_back(layer->section->name);
        fail(setting.where,
             "input_layers names '" + name +
                 "', which is not a layer section of this file (layers: " + join(names) + ")");
      }
      if (found->second->folded)
        fail(setting.where, "input_layers names '" + name +
                                "', the final activation that Loss = cross folds into the loss");
      inputs.push_back(found->second->output() +
                       (open == std::string::npos ? "" : entry.substr(open)));
    }
    return join(inputs);
  }

  void read_layers(Model& model) {
    std::vector<const Section*> sections;
    for (const Section& section : sections_)
      if (!contains(kFixedSections, to_lower(section.name))) sections.push_back(&section);
    if (sections.empty())
      fail(path_,
           "no layer sections (every section other than [Model], [Optimizer], "
           "[LearningRateScheduler], [train_set], [valid_set], [test_set] and [DataSet] "
           "is a layer)");
    const LossChoice loss = choose_loss(*sections.back());

    std::vector<SectionLayers> layers;
    for (const Section* section : sections)
      layers.push_back(
          build_layers(*section, loss.fold_final_activation && section == sections.back()));
    std::map<std::string, const SectionLayers*> by_name;
    for (const SectionLayers& layer : layers) by_name[to_lower(layer.section->name)] = &layer;

    for (size_t i = 0; i < layers.size(); ++i) {
      SectionLayers& layer = layers[i];
      const std::string inputs =
          layer.input_layers ? resolve_inputs(*layer.input_layers, by_name) : "";
      if (!inputs.empty())
        at(layer.input_layers->where,
           [&] { layer.nodes.front()->setProperty({"input_layers=" + inputs}); });
      if (layer.folded) check_folded_input(layers, i, inputs);
    }
    for (SectionLayers& layer : layers)
      if (!layer.folded)
        for (auto& node : layer.nodes) model.addLayer(std::move(node));
    if (loss_ != nullptr) at(loss_->where, [&] { model.setProperty({"loss=" + loss.loss}); });
  }

  // The model's loss reads the last layer added; once the final activation layer is left
  // out, that is the layer before it, which must then be the one it read.
  void check_folded_input(const std::vector<SectionLayers>& layers, size_t index,
                          const std::string& inputs) const {
    const Section& section = *layers[index].section;
    if (index == 0)
      fail(section.where, "Loss = cross folds the final activation [" + section.name +
                              "] into the loss, which leaves no layer before it");
    const std::string previous = layers[index - 1].output();
    if (!inputs.empty() && inputs != previous)
      fail(layers[index].input_layers->where,
           "Loss = cross folds the final activation [" + section.name +
               "] into the loss, which then reads the layer before it ('" + previous + "'), not '" +
               inputs + "'; put [" + section.name + "] right after the layer it reads");
  }

  // Creates an optimizer or scheduler from a section's Type and sets its other keys.
  template <typename Create>
  auto configure(const Section& section, Create create, const std::string& what) const {
    const Setting& type = require_type(section);
    auto object = at(type.where, [&] { return create(type.value); });
    const std::string owner = what + " '" + object->type() + "'";
    for (const Setting& setting : section.settings) {
      if (setting.key == "type") continue;
      if (!at(setting.where,
              [&] { return object->set_property(setting.key, setting.value, owner); }))
        fail(setting.where, "unknown key '" + setting.key + "' in [" + section.name + "] (Type = " +
                                object->type() + " takes: type, " + object->property_keys() + ")");
    }
    at(section.where, [&] { object->validate(owner); });
    return object;
  }

  // [Optimizer], or the optimizer read from [Model].
  void read_optimizer(Model& model) {
    if (const Section* section = fixed_section("optimizer"))
      model.setOptimizer(configure(
          *section, [](const std::string& type) { return new_optimizer(type); }, "optimizer"));
    else if (model_section_optimizer_ != nullptr)
      model.setOptimizer(std::move(model_section_optimizer_));
  }

  void read_scheduler(Model& model) const {
    if (const Section* section = fixed_section("learningratescheduler"))
      model.setLearningRateScheduler(configure(
          *section, [](const std::string& type) { return new_scheduler(type); },
          "learning rate scheduler"));
  }

  // `model_seed` is the image_folder split's seed when the section sets none.
  DatasetSpec read_dataset(const Section& section, bool is_train_set, uint64_t model_seed) const {
    DatasetSpec spec;
    spec.origin = section.where;
    const Setting& type = require_type(section);
    spec.type = at(type.where, [&] {
      return parse_choice(type.value, {"file", "idx", "csv", "image_folder"},
                          "[" + section.name + "]", "type");
    });
    if (spec.type == "image_folder")
      return read_image_folder(section, is_train_set, spec, model_seed);
    for (const Setting& setting : section.settings) {
      if (setting.key == "type") continue;
      if (setting.key == "path") {
        spec.path = resolve_path(setting);
      } else if (setting.key == "images") {
        spec.images = resolve_path(setting);
      } else if (setting.key == "labels") {
        spec.labels = resolve_path(setting);
      } else if (setting.key == "target") {
        spec.target_is_input = at(setting.where, [&] {
          return parse_choice(setting.value, {"label", "input"}, "[" + section.name + "]",
                              setting.key) == "input";
        });
      } else if (setting.key == "stream") {
        spec.stream = at(setting.where, [&] {
          return parse_bool(setting.value, "[" + section.name + "]", setting.key);
        });
      } else if (setting.key == "cache_dir") {
        spec.cache_dir = resolve_path(setting);
      } else if (setting.key == "validation_split" && is_train_set) {
        spec.validation_split = at(setting.where, [&] {
          return parse_fraction(setting.value, "[" + section.name + "]", setting.key);
        });
      } else {
        fail(setting.where, "unknown key '" + setting.key + "' in [" + section.name +
                                "] (known: type, path, images, labels, target, stream, "
                                "cache_dir" +
                                (is_train_set ? ", validation_split" : "") + ")");
      }
    }
    // file and csv read one file of samples; idx reads images and labels from two files,
    // or the images alone when the label is the input.
    const bool idx = spec.type == "idx";
    std::vector<std::string> needed{"path"}, unused{"images", "labels"};
    if (idx) {
      needed = spec.target_is_input ? std::vector<std::string>{"images"}
                                    : std::vector<std::string>{"images", "labels"};
      unused = spec.target_is_input ? std::vector<std::string>{"path", "labels"}
                                    : std::vector<std::string>{"path"};
    }
    const std::string reader =
        "Type = " + spec.type + (spec.target_is_input ? " with target = input" : "");
    for (const std::string& key : unused)
      if (const Setting* setting = section.find(key))
        fail(setting->where,
             reader + " does not read '" + key + "' (it reads " + join(needed) + ")");
    for (const std::string& key : needed) {
      const Setting* setting = section.find(key);
      if (setting == nullptr || setting->value.empty())
        fail(section.where, "[" + section.name + "] Type = " + spec.type + " needs '" + key + "'");
    }
    // CSV rows have no fixed size to read at an offset: a csv file is parsed into memory.
    if (spec.stream && spec.type == "csv")
      fail(section.find("stream")->where,
           "stream = true: Type = csv does not stream (Type = idx and Type = file do); remove "
           "stream or convert the data to one of those");
    if (const Setting* setting = section.find("cache_dir"); setting != nullptr && !idx)
      fail(setting->where, reader +
                               " does not read 'cache_dir' (only Type = idx, whose gzip "
                               "files stream through an uncompressed cache)");
    return spec;
  }

  // Type = image_folder. On [train_set]: the split, the augmentation and the
  // normalization; on [valid_set] and [test_set]: the whole folder, normalized.
  DatasetSpec read_image_folder(const Section& section, bool is_train_set, DatasetSpec spec,
                                uint64_t model_seed) const {
    const std::string owner = "[" + section.name + "]";
    spec.part = is_train_set ? DatasetSpec::Part::train : DatasetSpec::Part::all;
    // The augmentation steps `augment` lists, and the keys that tune each one.
    const std::map<std::string, std::string> step_of_key = {
        {"crop_padding", "crop"},     {"flip_probability", "flip"}, {"shift", "shift"},
        {"brightness", "brightness"}, {"contrast", "contrast"},     {"noise_std", "noise"},
        {"cutout", "cutout"}};
    std::vector<std::string> steps;
    const Setting* augment = section.find("augment");
    if (augment != nullptr) {
      if (!is_train_set)
        fail(augment->where,
             "augment is for [train_set]: validation and test images are not "
             "augmented");
      for (const std::string& step : split_list(augment->value))
        steps.push_back(at(augment->where, [&] {
          return parse_choice(
              step, {"crop", "flip", "shift", "brightness", "contrast", "noise", "cutout"}, owner,
              "augment");
        }));
    }
    // Defaults of the listed steps; keys below replace them.
    Augmentation& augmentation = spec.augmentation;
    for (const std::string& step : steps) {
      if (step == "crop") augmentation.crop_padding = 4;
      if (step == "flip") augmentation.flip_probability = 0.5f;
      if (step == "shift") augmentation.shift = 0.1f;
      if (step == "brightness") augmentation.brightness = 0.2f;
      if (step == "contrast") augmentation.contrast = 0.2f;
      if (step == "noise") augmentation.noise_std = 0.05f;
      if (step == "cutout") augmentation.cutout = 8;
    }
    spec.split.seed = model_seed;
    for (const Setting& setting : section.settings) {
      const std::string& key = setting.key;
      const std::string& value = setting.value;
      auto train_set_only = [&] {
        if (!is_train_set)
          fail(setting.where, "'" + key +
                                  "' is for [train_set] (Type = image_folder), whose "
                                  "split gives the validation and test sets");
      };
      if (key == "type" || key == "augment") continue;
      if (key == "path") {
        spec.path = resolve_path(setting);
      } else if (key == "skip_corrupt") {
        spec.skip_corrupt = at(setting.where, [&] { return parse_bool(value, owner, key); });
      } else if (key == "validation_split" || key == "test_split") {
        train_set_only();
        (key == "validation_split" ? spec.split.validation : spec.split.test) =
            at(setting.where, [&] { return parse_fraction(value, owner, key); });
      } else if (key == "seed") {
        train_set_only();
        spec.split.seed = static_cast<uint64_t>(
            at(setting.where, [&] { return parse_count(value, owner, key); }));
      } else if (key == "split_file") {
        train_set_only();
        spec.split.file = resolve_path(setting);
      } else if (step_of_key.contains(key)) {
        train_set_only();
        const std::string& step = step_of_key.at(key);
        if (std::find(steps.begin(), steps.end(), step) == steps.end())
          fail(setting.where, "'" + key + "' tunes the augmentation step '" + step +
                                  "', which 'augment' does not list (augment = " +
                                  (augment ? augment->value : std::string("not set")) + ")");
        at(setting.where, [&] {
          if (key == "crop_padding") augmentation.crop_padding = parse_positive(value, owner, key);
          if (key == "cutout") augmentation.cutout = parse_positive(value, owner, key);
          if (key == "flip_probability")
            augmentation.flip_probability = parse_unit_interval(value, owner, key);
          if (key == "shift") augmentation.shift = parse_fraction(value, owner, key);
          if (key == "brightness") augmentation.brightness = parse_unit_interval(value, owner, key);
          if (key == "contrast") augmentation.contrast = parse_unit_interval(value, owner, key);
          if (key == "noise_std") augmentation.noise_std = parse_unit_interval(value, owner, key);
        });
      } else if (key == "normalize_mean" || key == "normalize_std") {
        std::vector<float>& values =
            key == "normalize_mean" ? spec.normalization.mean : spec.normalization.std;
        for (const std::string& item : split_list(value))
          values.push_back(at(setting.where, [&] {
            return key == "normalize_mean" ? parse_float(item, owner, key)
                                           : parse_positive_float(item, owner, key);
          }));
        if (values.empty()) fail(setting.where, "'" + key + "' has no values");
      } else {
        fail(setting.where,
             "unknown key '" + key + "' in " + owner + " (Type = image_folder takes: type, path, " +
                 (is_train_set ? "validation_split, test_split, seed, split_file, augment, "
                                 "crop_padding, flip_probability, shift, brightness, contrast, "
                                 "noise_std, cutout, "
                               : "") +
                 "skip_corrupt, normalize_mean, normalize_std)");
      }
    }
    if (spec.path.empty()) fail(section.where, owner + " Type = image_folder needs 'path'");
    if (spec.split.validation + spec.split.test >= 1.0f)
      fail(section.where, owner + " validation_split + test_split = " +
                              std::to_string(spec.split.validation + spec.split.test) +
                              " leaves no training images; keep their sum below 1");
    if (spec.normalization.mean.empty() != spec.normalization.std.empty())
      fail(section.where,
           owner + " sets " +
               (spec.normalization.mean.empty() ? "normalize_std" : "normalize_mean") +
               " without " +
               (spec.normalization.mean.empty() ? "normalize_mean" : "normalize_std") +
               "; give both");
    return spec;
  }

  // The validation and test parts of an image_folder [train_set]'s split, as the data
  // sets [valid_set] and [test_set] would give; the split file's default; and
  // the training normalization for image_folder validation and test sections without one.
  void complete_image_folder_sets(ModelFile& file) const {
    if (!file.train_set || file.train_set->type != "image_folder") return;
    DatasetSpec& train = *file.train_set;
    if (train.split.file.empty()) {
      // Beside the run's other files: the weights, or else the model file.
      std::filesystem::path stem = file.trainer.save_path.empty()
                                       ? std::filesystem::path(path_)
                                       : std::filesystem::path(file.trainer.save_path);
      train.split.file = stem.replace_extension().string() + ".split.txt";
    }
    const Section& section = *fixed_section("train_set");
    for (auto [part, target, name, key] :
         {std::tuple{DatasetSpec::Part::validation, &file.valid_set, "valid_set",
                     "validation_split"},
          std::tuple{DatasetSpec::Part::test, &file.test_set, "test_set", "test_split"}}) {
      const float fraction =
          part == DatasetSpec::Part::validation ? train.split.validation : train.split.test;
      if (fraction > 0.0f) {
        if (target->has_value())
          fail(section.find(key)->where,
               std::string(key) + " and a [" + name + "] section (" + (*target)->origin +
                   ") both give the " +
                   (part == DatasetSpec::Part::validation ? "validation" : "test") +
                   " data; keep one");
        DatasetSpec derived = train;
        derived.part = part;
        derived.augmentation = Augmentation{};
        *target = derived;
      } else if (target->has_value() && (*target)->type == "image_folder" &&
                 !(*target)->normalization.enabled()) {
        (*target)->normalization = train.normalization;
      }
    }
  }

  void read_datasets(ModelFile& file) const {
    if (const Section* section = fixed_section("train_set"))
      file.train_set = read_dataset(*section, true, file.model->seed());
    if (const Section* section = fixed_section("valid_set"))
      file.valid_set = read_dataset(*section, false, file.model->seed());
    if (const Section* section = fixed_section("test_set"))
      file.test_set = read_dataset(*section, false, file.model->seed());
    if (const Section* section = fixed_section("dataset")) read_old_dataset_section(*section, file);
    complete_image_folder_sets(file);
    if (file.train_set && file.train_set->validation_split > 0.0f && file.valid_set)
      fail(fixed_section("train_set")->find("validation_split")->where,
           "validation_split and a validation set (" + file.valid_set->origin +
               ") both give the validation data; keep one");
  }

  // NNTrainer's older [DataSet]: TrainData, ValidData and TestData name raw float32 files.
  void read_old_dataset_section(const Section& section, ModelFile& file) const {
    const std::map<std::string, std::pair<std::optional<DatasetSpec>*, const char*>> targets = {
        {"traindata", {&file.train_set, "train_set"}},
        {"validdata", {&file.valid_set, "valid_set"}},
        {"testdata", {&file.test_set, "test_set"}},
    };
    for (const Setting& setting : section.settings) {
      auto target = targets.find(setting.key);
      if (setting.key == "buffersize") {
        // How many samples NNTrainer's loader thread reads ahead; edgetrain's loader
        // reads one batch ahead when streaming, so only the value is checked.
        at(setting.where,
           [&] { parse_positive(setting.value, "[" + section.name + "]", setting.key); });
      } else if (target != targets.end()) {
        auto& [spec, name] = target->second;
        if (spec->has_value())
          fail(setting.where, "this data set is also given by [" + std::string(name) + "] (" +
                                  (*spec)->origin + ")");
        DatasetSpec described;
        described.type = "file";
        described.path = resolve_path(setting);
        described.origin = setting.where;
        *spec = described;
      } else if (setting.key == "labeldata") {
        fail(setting.where,
             "LabelData (a file of class names) is not supported; labels are part of each sample");
      } else {
        fail(setting.where, "unknown key '" + setting.key + "' in [" + section.name +
                                "] (known: BufferSize, TrainData, ValidData, TestData)");
      }
    }
  }

  std::string path_;
  std::filesystem::path folder_;
  std::vector<Section> sections_;
  const Setting* loss_ = nullptr;                       // [Model] Loss
  std::unique_ptr<Optimizer> model_section_optimizer_;  // NNTrainer's older form
};

}  // namespace

ModelFile load_model_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::vector<Section> sections = read_sections(path);
  for (const std::string& text : overrides) apply_override(sections, text, path);
  return ModelFileReader(path, std::move(sections)).read();
}

}  // namespace edgetrain
