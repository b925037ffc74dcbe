// The split of an image folder into training, validation and test parts, and the split
// file that keeps it from one run to the next.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "io/atomic_file.h"

namespace edgetrain {

namespace {

constexpr const char* kMagic = "edgetrain-split 1";

// Fractions as the file writes them: enough digits to read back the same float.
std::string format_fraction(float value) {
  std::ostringstream text;
  text.precision(9);
  text << value;
  return text.str();
}

}  // namespace

ImageFolderSplitFile read_split_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the split file");
  ImageFolderSplitFile split;
  std::string line;
  size_t number = 0;
  auto fail = [&](const std::string& message) -> void {
    throw DataError(path + ":" + std::to_string(number) + ": " + message);
  };
  if (!std::getline(in, line) || line != kMagic) {
    number = 1;
    fail(std::string("not a split file (the first line is not '") + kMagic + "')");
  }
  number = 1;
  while (std::getline(in, line)) {
    ++number;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space + 1 == line.size())
      fail("expected 'field value', got '" + line + "'");
    const std::string field = line.substr(0, space), value = line.substr(space + 1);
    try {
      if (field == "validation_split") {
        split.validation_split = std::stof(value);
      } else if (field == "test_split") {
        split.test_split = std::stof(value);
      } else if (field == "seed") {
        split.seed = std::stoull(value);
      } else if (field == "class") {
        split.classes.push_back(value);
      } else if (field == "train" || field == "validation" || field == "test") {
        const std::string class_name = value.substr(0, value.find('/'));
        if (std::find(split.classes.begin(), split.classes.end(), class_name) ==
            split.classes.end())
          fail("'" + value + "' is not in a class folder of the file's classes");
        (field == "train"        ? split.train
         : field == "validation" ? split.validation
                                 : split.test)
            .push_back(value);
      } else {
        fail("unknown field '" + field + "'");
      }
    } catch (const std::logic_error&) {  // stof, stoull
      fail("'" + value + "' is not a number");
    }
  }
  if (split.classes.empty()) fail("no classes");
  return split;
}

void write_split_file(const ImageFolderSplitFile& split, const std::string& path) {
  std::ostringstream text;
  text << kMagic << "\nvalidation_split " << format_fraction(split.validation_split)
       << "\ntest_split " << format_fraction(split.test_split) << "\nseed " << split.seed << "\n";
  for (const std::string& name : split.classes) text << "class " << name << "\n";
  for (const auto& [part, files] :
       {std::pair{"train", &split.train}, {"validation", &split.validation}, {"test", &split.test}})
    for (const std::string& file : *files) text << part << " " << file << "\n";
  const std::string bytes = text.str();
  try {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);
    AtomicFile file(path);
    file.write(std::as_bytes(std::span(bytes.data(), bytes.size())));
    file.commit();
  } catch (const std::exception& error) {
    throw DataError(path + ": cannot write the split file: " + error.what());
  }
}

ImageFolderSplitFile split_image_folder(const ImageFolderListing& listing,
                                        const ImageFolderSplit& split) {
  const double train = 1.0 - static_cast<double>(split.validation) - split.test;
  std::vector<std::vector<size_t>> parts =
      stratified_split_indices(listing.labels, {train, split.validation, split.test}, split.seed);
  ImageFolderSplitFile file;
  file.validation_split = split.validation;
  file.test_split = split.test;
  file.seed = split.seed;
  file.classes = listing.classes;
  for (auto [indices, files] :
       {std::pair{&parts[0], &file.train}, {&parts[1], &file.validation}, {&parts[2], &file.test}})
    for (size_t index : *indices) files->push_back(listing.files[index]);
  return file;
}

ImageFolderSplitFile load_or_make_split(const std::string& root, const ImageFolderSplit& split) {
  const ImageFolderListing listing = list_image_folder(root);
  std::error_code error;
  if (!split.file.empty() && std::filesystem::exists(split.file, error)) {
    ImageFolderSplitFile saved = read_split_file(split.file);
    if (saved.validation_split == split.validation && saved.test_split == split.test &&
        saved.seed == split.seed && saved.classes == listing.classes) {
      const size_t listed = saved.train.size() + saved.validation.size() + saved.test.size();
      if (listing.files.size() > listed)
        std::cerr << "edgetrain: note: " << root << " holds " << listing.files.size() - listed
                  << " images that the split file " << split.file
                  << " leaves out; delete it to split anew" << std::endl;
      return saved;
    }
    std::cerr << "edgetrain: note: the split file " << split.file
              << " was made with other classes, fractions or seed; splitting " << root << " anew"
              << std::endl;
  }
  ImageFolderSplitFile made = split_image_folder(listing, split);
  if (!split.file.empty()) write_split_file(made, split.file);
  return made;
}

}  // namespace edgetrain
