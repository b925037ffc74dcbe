// Image folders: listing, decoding (PNG, JPEG), grayscale and RGB conversion, resizing,
// corrupt files and empty or single classes, the stratified split and its file, and
// augmentation (hand-computed steps, seeded, only on the training part) and normalization.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/model_file.h"
#include "support/allocation_counter.h"
#include "support/data_files.h"
#include "support/image_files.h"

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

// A solid 4x4 RGB image.
std::vector<uint8_t> solid(uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 16; ++i) pixels.insert(pixels.end(), {r, g, b});
  return pixels;
}

// A folder of three classes of solid 4x4 images, PNG and JPEG: `per_class` images each,
// cat red, dog green, owl blue.
void write_tree(const std::string& root, size_t per_class) {
  for (size_t i = 0; i < per_class; ++i) {
    const std::string name = std::to_string(10 + i);
    write_png(root + "cat/" + name + ".png", 4, 4, 3, solid(200, 0, 0));
    write_jpeg(root + "dog/" + name + ".jpg", 4, 4, solid(0, 200, 0));
    write_png(root + "owl/" + name + ".PNG", 4, 4, 3, solid(0, 0, 200));
  }
}

// A C:H:W sample with the given values.
struct Sample {
  Sample(size_t channels, size_t height, size_t width, std::vector<float> values)
      : values(std::move(values)),
        tensor(this->values.data(), TensorShape(1, channels, height, width)) {}
  std::vector<float> values;
  Tensor tensor;
};

std::vector<float> read_input(Dataset& data, size_t index, const TensorShape& shape, size_t classes,
                              std::vector<float>* label = nullptr) {
  SampleBuffer input(shape), one_hot(TensorShape(1, 1, 1, classes));
  std::vector<Tensor> inputs = {input.tensor}, labels = {one_hot.tensor};
  data.read(index, inputs, labels);
  if (label) *label = one_hot.values;
  return input.values;
}

class ImageFolder : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_temp_dir(); }
  std::string dir_;
};

TEST_F(ImageFolder, ListsClassFoldersInOrderAndTheirImagesByExtension) {
  write_tree(dir_ + "data/", 2);
  write_text(dir_ + "data/cat/notes.txt", "not an image");
  write_text(dir_ + "data/README", "not a class");
  fs::create_directories(dir_ + "data/.cache");
  const ImageFolderListing listing = list_image_folder(dir_ + "data");
  EXPECT_EQ(listing.classes, (std::vector<std::string>{"cat", "dog", "owl"}));
  EXPECT_EQ(listing.files, (std::vector<std::string>{"cat/10.png", "cat/11.png", "dog/10.jpg",
                                                     "dog/11.jpg", "owl/10.PNG", "owl/11.PNG"}));
  EXPECT_EQ(listing.labels, (std::vector<size_t>{0, 0, 1, 1, 2, 2}));
}

TEST_F(ImageFolder, EmptyClassFolderOneClassOrNoFolderIsAnError) {
  write_tree(dir_ + "data/", 1);
  fs::create_directories(dir_ + "data/empty");
  expect_data_error([&] { list_image_folder(dir_ + "data"); },
                    {dir_ + "data/empty", "holds no images"});
  write_png(dir_ + "one/cat/1.png", 4, 4, 3, solid(1, 2, 3));
  expect_data_error([&] { list_image_folder(dir_ + "one"); },
                    {dir_ + "one", "one class folder ('cat')", "at least 2"});
  expect_data_error([&] { list_image_folder(dir_ + "missing"); },
                    {dir_ + "missing", "no such folder"});
}

TEST_F(ImageFolder, ReadsPixelsOver255AndOneHotLabels) {
  write_tree(dir_ + "data/", 1);
  const TensorShape shape(1, 3, 4, 4);
  ImageFolderDataset data(dir_ + "data", shape, 3, {});
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data.classes(), (std::vector<std::string>{"cat", "dog", "owl"}));
  std::vector<float> label;
  const std::vector<float> cat = read_input(data, 0, shape, 3, &label);
  EXPECT_EQ(label, (std::vector<float>{1, 0, 0}));
  for (size_t p = 0; p < 16; ++p) {
    EXPECT_FLOAT_EQ(cat[p], 200.0f / 255.0f);  // red plane
    EXPECT_FLOAT_EQ(cat[16 + p], 0.0f);
    EXPECT_FLOAT_EQ(cat[32 + p], 0.0f);
  }
  // JPEG is lossy: the green plane is close to 200 / 255.
  const std::vector<float> dog = read_input(data, 1, shape, 3, &label);
  EXPECT_EQ(label, (std::vector<float>{0, 1, 0}));
  EXPECT_NEAR(dog[16 + 5], 200.0f / 255.0f, 3.0f / 255.0f);
  EXPECT_NEAR(dog[5], 0.0f, 3.0f / 255.0f);
}

TEST_F(ImageFolder, ConvertsToGrayscaleByLuminanceAndGrayToRgb) {
  // A 2x1 RGB image, red then blue, and a 1x1 gray image.
  write_png(dir_ + "rgb.png", 2, 1, 3, {255, 0, 0, 0, 0, 255});
  write_png(dir_ + "gray.png", 1, 1, 1, {90});
  // stb_image's luminance: (77 R + 150 G + 29 B) >> 8.
  EXPECT_EQ(load_image_bytes(dir_ + "rgb.png", 1, 1, 2),
            (std::vector<uint8_t>{255 * 77 >> 8, 255 * 29 >> 8}));
  // C:H:W: the red plane, the green plane, the blue plane.
  EXPECT_EQ(load_image_bytes(dir_ + "rgb.png", 3, 1, 2),
            (std::vector<uint8_t>{255, 0, 0, 0, 0, 255}));
  EXPECT_EQ(load_image_bytes(dir_ + "gray.png", 3, 1, 1), (std::vector<uint8_t>{90, 90, 90}));
  expect_data_error([&] { load_image_bytes(dir_ + "rgb.png", 2, 1, 2); },
                    {dir_ + "rgb.png", "1 (grayscale) or 3 (RGB)", "has 2"});
}

TEST_F(ImageFolder, ResizesBilinearly) {
  // Upsampling is bilinear with pixel centres at half pixels (PyTorch's
  // align_corners=False): 0, 255 becomes 0, 63.75, 191.25, 255.
  EXPECT_EQ(resize_image_bytes(std::vector<uint8_t>{0, 255}, 1, 1, 2, 1, 4),
            (std::vector<uint8_t>{0, 64, 191, 255}));
  // Shrinking by two widens the triangle to two input pixels each side: output pixel 0
  // (centre 1.0 in input pixels, edges clamped) weighs pixels -1, 0, 1, 2 by 1/8, 3/8,
  // 3/8, 1/8: 0 + 0 + 37.5 + 25 = 62.5; pixel 1 gives 12.5 + 75 + 75 + 25 = 187.5.
  EXPECT_EQ(resize_image_bytes(std::vector<uint8_t>{0, 100, 200, 200}, 1, 1, 4, 1, 2),
            (std::vector<uint8_t>{63, 188}));
  // A solid image stays solid in every channel; the same size is a copy.
  const std::vector<uint8_t> rgb = solid(10, 20, 30);
  const std::vector<uint8_t> bigger = resize_image_bytes(rgb, 3, 4, 4, 7, 9);
  ASSERT_EQ(bigger.size(), 7u * 9u * 3u);
  for (size_t p = 0; p < 63; ++p)
    EXPECT_EQ((std::vector<uint8_t>{bigger[3 * p], bigger[3 * p + 1], bigger[3 * p + 2]}),
              (std::vector<uint8_t>{10, 20, 30}));
  EXPECT_EQ(resize_image_bytes(rgb, 3, 4, 4, 4, 4), rgb);
  // Through a file: a 4x4 image read at 2x3.
  write_png(dir_ + "solid.png", 4, 4, 3, rgb);
  EXPECT_EQ(load_image_bytes(dir_ + "solid.png", 3, 2, 3),
            (std::vector<uint8_t>{10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20, 30, 30, 30, 30,
                                  30, 30}));
}

TEST_F(ImageFolder, CorruptFileIsAnErrorNamingItOrSkippedWhenAsked) {
  write_tree(dir_ + "data/", 2);
  write_text(dir_ + "data/dog/broken.png", "this is not a PNG");
  const TensorShape shape(1, 3, 4, 4);
  expect_data_error([&] { ImageFolderDataset(dir_ + "data", shape, 3, {}); },
                    {dir_ + "data/dog/broken.png", "cannot decode the image"});
  ImageFolderDataset data(dir_ + "data", shape, 3, {.skip_corrupt = true});
  EXPECT_EQ(data.size(), 6u);
  ASSERT_EQ(data.skipped().size(), 1u);
  EXPECT_NE(data.skipped()[0].find("dog/broken.png"), std::string::npos) << data.skipped()[0];
  EXPECT_EQ(std::count(data.files().begin(), data.files().end(), "dog/broken.png"), 0);
}

TEST_F(ImageFolder, OutputUnitsOtherThanTheClassesAreAnErrorNamingBoth) {
  write_tree(dir_ + "data/", 1);
  expect_data_error([&] { ImageFolderDataset(dir_ + "data", TensorShape(1, 3, 4, 4), 10, {}); },
                    {dir_ + "data", "3 classes (cat, dog, owl)", "10 units"});
}

// ---------------------------------------------------------------- split

TEST_F(ImageFolder, SplitIsStratifiedAndTheSplitFileRoundTrips) {
  write_tree(dir_ + "data/", 10);
  const ImageFolderListing listing = list_image_folder(dir_ + "data");
  const ImageFolderSplitFile split =
      split_image_folder(listing, {.validation = 0.2f, .test = 0.1f, .seed = 3});
  EXPECT_EQ(split.train.size(), 21u);
  EXPECT_EQ(split.validation.size(), 6u);
  EXPECT_EQ(split.test.size(), 3u);
  // Every class in proportion in every part, every file in exactly one part.
  for (const std::vector<std::string>* part : {&split.validation, &split.test}) {
    std::map<std::string, size_t> per_class;
    for (const std::string& file : *part) ++per_class[file.substr(0, 3)];
    for (const char* name : {"cat", "dog", "owl"})
      EXPECT_EQ(per_class[name], part->size() / 3) << name;
  }
  std::set<std::string> all(split.train.begin(), split.train.end());
  all.insert(split.validation.begin(), split.validation.end());
  all.insert(split.test.begin(), split.test.end());
  EXPECT_EQ(all, std::set<std::string>(listing.files.begin(), listing.files.end()));

  write_split_file(split, dir_ + "run/split.txt");
  const ImageFolderSplitFile read = read_split_file(dir_ + "run/split.txt");
  EXPECT_EQ(read.classes, split.classes);
  EXPECT_EQ(read.train, split.train);
  EXPECT_EQ(read.validation, split.validation);
  EXPECT_EQ(read.test, split.test);
  EXPECT_EQ(read.seed, 3u);
  EXPECT_EQ(read.validation_split, 0.2f);
  EXPECT_EQ(read.test_split, 0.1f);

  write_text(dir_ + "bad.txt", "edgetrain-split 1\nclass cat\ntrain dog/1.png\n");
  expect_data_error([&] { read_split_file(dir_ + "bad.txt"); },
                    {dir_ + "bad.txt:3", "dog/1.png", "not in a class folder"});
  write_text(dir_ + "other.txt", "hello\n");
  expect_data_error([&] { read_split_file(dir_ + "other.txt"); },
                    {dir_ + "other.txt:1", "not a split file"});
}

TEST_F(ImageFolder, SplitIsStableAcrossRunsAndKeptByItsFile) {
  write_tree(dir_ + "data/", 10);
  const ImageFolderSplit options{
      .validation = 0.2f, .test = 0.2f, .seed = 5, .file = dir_ + "s.txt"};
  const ImageFolderSplitFile first = load_or_make_split(dir_ + "data", options);
  const std::vector<uint8_t> file = read_bytes(dir_ + "s.txt");
  ASSERT_FALSE(file.empty());
  // The same seed splits the same way without the file...
  fs::remove(dir_ + "s.txt");
  EXPECT_EQ(load_or_make_split(dir_ + "data", options).test, first.test);
  EXPECT_EQ(read_bytes(dir_ + "s.txt"), file);
  // ... and with the file, images added later stay out of the parts.
  write_png(dir_ + "data/cat/99.png", 4, 4, 3, solid(200, 0, 0));
  const ImageFolderSplitFile again = load_or_make_split(dir_ + "data", options);
  EXPECT_EQ(again.train, first.train);
  EXPECT_EQ(again.test, first.test);
  EXPECT_EQ(read_bytes(dir_ + "s.txt"), file);
  // Another seed splits anew and rewrites the file.
  ImageFolderSplit reseeded = options;
  reseeded.seed = 6;
  const ImageFolderSplitFile other = load_or_make_split(dir_ + "data", reseeded);
  EXPECT_NE(other.test, first.test);
  EXPECT_EQ(read_split_file(dir_ + "s.txt").seed, 6u);
}

DatasetSpec folder_spec(const std::string& root, DatasetSpec::Part part, const std::string& file) {
  DatasetSpec spec;
  spec.type = "image_folder";
  spec.path = root;
  spec.part = part;
  spec.split = {.validation = 0.2f, .test = 0.2f, .seed = 1, .file = file};
  spec.augmentation.flip_probability = 1.0f;
  spec.augmentation.noise_std = 0.5f;
  return spec;
}

TEST_F(ImageFolder, OpenDatasetGivesThePartsAndAugmentsOnlyTheTrainingPart) {
  write_tree(dir_ + "data/", 5);
  const TensorShape shape(1, 3, 4, 4);
  const std::string split_file = dir_ + "split.txt";
  auto train =
      open_dataset(folder_spec(dir_ + "data", DatasetSpec::Part::train, split_file), shape, 3);
  auto validation =
      open_dataset(folder_spec(dir_ + "data", DatasetSpec::Part::validation, split_file), shape, 3);
  auto test =
      open_dataset(folder_spec(dir_ + "data", DatasetSpec::Part::test, split_file), shape, 3);
  EXPECT_EQ(train->size(), 9u);
  EXPECT_EQ(validation->size(), 3u);
  EXPECT_EQ(test->size(), 3u);
  EXPECT_TRUE(train->augments());
  EXPECT_FALSE(validation->augments());
  EXPECT_FALSE(test->augments());
  const ImageFolderSplitFile split = read_split_file(split_file);
  EXPECT_EQ(dynamic_cast<ImageFolderDataset&>(*test).files(), split.test);

  // The loader reads the test part exactly as read() does.
  SampleBuffer input(shape.with_batch(3)), label(TensorShape(3, 1, 1, 3));
  DataLoader loader(*test, {.batch_size = 3, .shuffle = false, .seed = 4});
  loader.start_epoch();
  std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
  ASSERT_EQ(loader.next_batch(inputs, labels), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const std::vector<float> plain = read_input(*test, i, shape, 3);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), input.values.begin() + i * 48));
  }
  // An image_folder spec names its origin in errors.
  DatasetSpec bad = folder_spec(dir_ + "data", DatasetSpec::Part::train, split_file);
  bad.origin = "model.ini:4";
  expect_data_error([&] { open_dataset(bad, shape, 4); },
                    {"model.ini:4: ", "3 classes", "4 units"});
}

// ---------------------------------------------------------------- augmentation

TEST(ImageAugmentation, ShiftFlipAndCutoutMatchHandComputedImages) {
  // 1 channel, 3 rows, 4 columns: values 1 .. 12 row by row.
  const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  {
    Sample sample(1, 3, 4, image);
    shift_image(sample.tensor, 1, -2);  // down one row, left two columns
    EXPECT_EQ(sample.values, (std::vector<float>{0, 0, 0, 0, 3, 4, 0, 0, 7, 8, 0, 0}));
  }
  {
    Sample sample(1, 3, 4, image);
    shift_image(sample.tensor, -1, 1);  // up one row, right one column
    EXPECT_EQ(sample.values, (std::vector<float>{0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0}));
  }
  {
    Sample sample(1, 3, 4, image);
    flip_image_horizontally(sample.tensor);
    EXPECT_EQ(sample.values, (std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}));
  }
  {
    // A 2x2 square at (-1, 2): clipped to row 0, columns 2 and 3; in both channels.
    std::vector<float> two_channels = image;
    two_channels.insert(two_channels.end(), image.begin(), image.end());
    Sample sample(2, 3, 4, two_channels);
    cut_out_image(sample.tensor, -1, 2, 2);
    const std::vector<float> expected = {1, 2, 0, 0, 5, 6, 7, 8, 9, 10, 11, 12};
    EXPECT_EQ(std::vector<float>(sample.values.begin(), sample.values.begin() + 12), expected);
    EXPECT_EQ(std::vector<float>(sample.values.begin() + 12, sample.values.end()), expected);
  }
}

TEST(ImageAugmentation, FlipOfAKnownImageIsItsMirrorImage) {
  // Flip probability 1: every sample is mirrored, per channel.
  const std::vector<float> image = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};  // 2 channels, 1x3
  Sample sample(2, 1, 3, image);
  Rng rng(1);
  augment_image(sample.tensor, {.flip_probability = 1.0f}, rng);
  EXPECT_EQ(sample.values, (std::vector<float>{0.3f, 0.2f, 0.1f, 0.6f, 0.5f, 0.4f}));
}

TEST(ImageAugmentation, CropWithPaddingIsAShiftOfAtMostThePadding) {
  std::vector<float> image(25);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i + 1);
  std::set<std::pair<long, long>> shifts;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Sample sample(1, 5, 5, image);
    Rng rng(seed);
    augment_image(sample.tensor, {.crop_padding = 1}, rng);
    // Which shift it was: the one that gives the same image.
    bool found = false;
    for (long dy = -1; dy <= 1 && !found; ++dy)
      for (long dx = -1; dx <= 1 && !found; ++dx) {
        Sample shifted(1, 5, 5, image);
        shift_image(shifted.tensor, dy, dx);
        if (shifted.values == sample.values) {
          shifts.insert({dy, dx});
          found = true;
        }
      }
    EXPECT_TRUE(found) << "seed " << seed;
  }
  EXPECT_EQ(shifts.size(), 9u);  // every offset of the padded crop comes up
}

TEST(ImageAugmentation, StepsAreSeededKeepValuesInRangeAndShape) {
  const Augmentation everything{.crop_padding = 2,
                                .shift = 0.25f,
                                .flip_probability = 0.5f,
                                .brightness = 0.2f,
                                .contrast = 0.3f,
                                .noise_std = 0.1f,
                                .cutout = 3};
  std::vector<float> image(3 * 8 * 8);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i % 17) / 16.0f;
  Sample a(3, 8, 8, image), b(3, 8, 8, image), c(3, 8, 8, image);
  Rng rng_a(9), rng_b(9), rng_c(10);
  augment_image(a.tensor, everything, rng_a);
  augment_image(b.tensor, everything, rng_b);
  augment_image(c.tensor, everything, rng_c);
  EXPECT_EQ(a.values, b.values);
  EXPECT_NE(a.values, c.values);
  EXPECT_NE(a.values, image);
  EXPECT_EQ(a.values.size(), image.size());
  for (float value : a.values) {
    EXPECT_GE(value, 0.0f);
    EXPECT_LE(value, 1.0f);
  }
  // Brightness alone adds one value to every pixel.
  Sample bright(1, 1, 3, {0.2f, 0.4f, 0.6f});
  Rng rng(3);
  augment_image(bright.tensor, {.brightness = 0.1f}, rng);
  const float delta = bright.values[0] - 0.2f;
  EXPECT_LE(std::abs(delta), 0.1f);
  EXPECT_NEAR(bright.values[1] - 0.4f, delta, 1e-6f);
  EXPECT_NEAR(bright.values[2] - 0.6f, delta, 1e-6f);
}

TEST(ImageAugmentation, NormalizeIsPerChannel) {
  Sample sample(2, 1, 2, {0.5f, 1.0f, 0.25f, 0.75f});
  normalize_image(sample.tensor, {.mean = {0.5f, 0.25f}, .std = {0.5f, 0.25f}});
  EXPECT_EQ(sample.values, (std::vector<float>{0.0f, 1.0f, 0.0f, 2.0f}));
  Sample one_value(2, 1, 1, {1.0f, 0.0f});
  normalize_image(one_value.tensor, {.mean = {0.5f}, .std = {0.5f}});
  EXPECT_EQ(one_value.values, (std::vector<float>{1.0f, -1.0f}));
}

TEST(ImageAugmentation, InvalidParametersNameTheKeyAndValue) {
  expect_data_error([] { check_augmentation({.crop_padding = 8}, 8, 10); },
                    {"crop_padding = 8", "height 8"});
  expect_data_error([] { check_augmentation({.shift = 1.0f}, 8, 8); }, {"shift = 1", "[0, 1)"});
  expect_data_error([] { check_augmentation({.flip_probability = 1.5f}, 8, 8); },
                    {"flip_probability = 1.5"});
  expect_data_error([] { check_augmentation({.brightness = -0.1f}, 8, 8); }, {"brightness = -0.1"});
  expect_data_error([] { check_augmentation({.noise_std = 2.0f}, 8, 8); }, {"noise_std = 2"});
  expect_data_error([] { check_augmentation({.cutout = 9}, 8, 8); }, {"cutout = 9"});
  expect_data_error(
      [] {
        check_normalization({.mean = {0.5f, 0.5f}, .std = {0.5f}}, 3);
      },
      {"normalize_mean has 2 values", "1, or 3"});
  expect_data_error([] { check_normalization({.mean = {0.5f}, .std = {0.0f}}, 3); },
                    {"normalize_std value 0", "> 0"});
  expect_data_error([] { check_normalization({.mean = {0.5f}, .std = {}}, 3); },
                    {"normalize_mean is set without normalize_std"});
}

// The loader's augmentation: from its seed, the same with or without the worker thread,
// new every epoch, without allocating, and not when evaluating.
TEST_F(ImageFolder, LoaderAugmentsDeterministicallyUnderItsSeed) {
  write_tree(dir_ + "data/", 4);
  const TensorShape shape(1, 3, 4, 4);
  ImageFolderDataset data(
      dir_ + "data", shape, 3,
      {.augmentation = {.flip_probability = 0.5f, .noise_std = 0.2f, .cutout = 2}});
  ASSERT_TRUE(data.augments());
  auto epochs = [&](uint64_t seed, bool prefetch, bool augment) {
    SampleBuffer input(shape.with_batch(4)), label(TensorShape(4, 1, 1, 3));
    std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
    DataLoader loader(data,
                      {.batch_size = 4, .seed = seed, .prefetch = prefetch, .augment = augment});
    std::vector<std::vector<float>> batches;
    for (int epoch = 0; epoch < 2; ++epoch) {
      loader.start_epoch();
      while (loader.next_batch(inputs, labels) > 0) batches.push_back(input.values);
    }
    return batches;
  };
  const auto first = epochs(7, false, true);
  EXPECT_EQ(epochs(7, false, true), first);
  EXPECT_EQ(epochs(7, true, true), first);
  EXPECT_NE(epochs(8, false, true), first);
  // Each epoch varies the images anew: epoch 2's batches are not epoch 1's.
  EXPECT_NE(std::vector(first.begin(), first.begin() + 3),
            std::vector(first.begin() + 3, first.end()));
  // Without augmentation every batch holds the images as read() gives them.
  const auto plain = epochs(7, false, false);
  std::multiset<std::vector<float>> read_images, batch_images;
  for (size_t i = 0; i < data.size(); ++i) read_images.insert(read_input(data, i, shape, 3));
  for (size_t b = 0; b < 3; ++b)
    for (size_t s = 0; s < 4; ++s)
      batch_images.insert(
          std::vector<float>(plain[b].begin() + s * 48, plain[b].begin() + (s + 1) * 48));
  EXPECT_EQ(batch_images, read_images);

  SampleBuffer input(shape.with_batch(4)), label(TensorShape(4, 1, 1, 3));
  std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
  // Resuming the second epoch at sample 4 (the generator's state before its
  // start_epoch(), then the position) reads the batch the run read there.
  DataLoader first_epoch(data, {.batch_size = 4, .seed = 7});
  first_epoch.start_epoch();
  DataLoader resumed(data, {.batch_size = 4, .seed = 7});
  resumed.rng().set_state(first_epoch.rng().state());
  resumed.start_epoch();
  resumed.set_position(4);
  ASSERT_EQ(resumed.next_batch(inputs, labels), 4u);
  EXPECT_EQ(input.values, first[4]);

  DataLoader loader(data, {.batch_size = 4, .seed = 1});
  loader.start_epoch();
  loader.next_batch(inputs, labels);  // makes the per-sample views
  AllocationCounter counter;
  while (loader.next_batch(inputs, labels) > 0) {
  }
  loader.start_epoch();
  while (loader.next_batch(inputs, labels) > 0) {
  }
  EXPECT_EQ(counter.count(), 0u);
}

// ---------------------------------------------------------------- model files

constexpr const char* kModel = R"([Model]
Loss = cross
Batch_Size = 4
Save_Path = run/model.bin
seed = 3

[Optimizer]
Type = sgd

[train_set]
Type = image_folder
path = data
validation_split = 0.2
test_split = 0.2
augment = flip, crop
crop_padding = 1
normalize_mean = 0.5
normalize_std = 0.25

[input]
Type = input
Input_Shape = 3:4:4

[out]
Type = fully_connected
Unit = 3
)";

TEST_F(ImageFolder, ModelFileSplitsTheTrainSetIntoValidationAndTestSets) {
  write_text(dir_ + "model.ini", kModel);
  const ModelFile file = load_model_file(dir_ + "model.ini");
  ASSERT_TRUE(file.train_set && file.valid_set && file.test_set);
  EXPECT_EQ(file.train_set->part, DatasetSpec::Part::train);
  EXPECT_EQ(file.valid_set->part, DatasetSpec::Part::validation);
  EXPECT_EQ(file.test_set->part, DatasetSpec::Part::test);
  EXPECT_EQ(file.train_set->path, dir_ + "data");
  EXPECT_EQ(file.train_set->split.file, dir_ + "run/model.split.txt");
  EXPECT_EQ(file.train_set->split.seed, 3u);  // the model's
  EXPECT_EQ(file.train_set->augmentation.crop_padding, 1u);
  EXPECT_EQ(file.train_set->augmentation.flip_probability, 0.5f);
  EXPECT_FALSE(file.valid_set->augmentation.enabled());
  EXPECT_FALSE(file.test_set->augmentation.enabled());
  EXPECT_EQ(file.test_set->normalization.std, std::vector<float>{0.25f});
  EXPECT_EQ(file.train_set->validation_split, 0.0f);  // the split is the folder's own

  const ModelFile seeded = load_model_file(
      dir_ + "model.ini", {"train_set.seed=11", "train_set.split_file=elsewhere.txt"});
  EXPECT_EQ(seeded.test_set->split.seed, 11u);
  EXPECT_EQ(seeded.test_set->split.file, "elsewhere.txt");
}

TEST_F(ImageFolder, ModelFileErrorsNameTheKeyAndValue) {
  write_text(dir_ + "model.ini", kModel);
  const std::string ini = dir_ + "model.ini";
  auto expect_error = [&](const std::vector<std::string>& overrides,
                          const std::vector<std::string>& parts) {
    try {
      load_model_file(ini, overrides);
      ADD_FAILURE() << "no error for " << overrides[0];
    } catch (const ModelFileError& error) {
      for (const std::string& part : parts)
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
            << error.what() << " lacks " << part;
    }
  };
  expect_error({"train_set.augment=flip, rotate"}, {"augment", "rotate"});
  expect_error({"train_set.cutout=4"}, {"'cutout'", "augment = flip, crop"});
  expect_error({"train_set.flip_probability=2"}, {"flip_probability", "2"});
  expect_error({"train_set.crop_padding=-1"}, {"crop_padding", "-1"});
  expect_error({"train_set.normalize_std=0"}, {"normalize_std", "0"});
  expect_error({"train_set.test_split=0.8"}, {"validation_split + test_split", "below 1"});
  expect_error({"train_set.colour=red"}, {"unknown key 'colour'", "skip_corrupt"});
  expect_error({"test_set.type=image_folder", "test_set.path=more"},
               {"test_split and a [test_set] section", "keep one"});
  expect_error({"test_set.type=image_folder", "test_set.path=more", "test_set.augment=flip"},
               {"augment is for [train_set]"});
}

}  // namespace
}  // namespace edgetrain::testing
