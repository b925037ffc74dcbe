#include "support/data_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "edgetrain/error.h"

namespace edgetrain::testing {

namespace {

void append_big_endian(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(value >> shift));
}

}  // namespace

std::string fresh_temp_dir() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "edgetrain_data" /
                                    (std::string(test->test_suite_name()) + "." + test->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string() + "/";
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << "cannot write " << path;
  const int written = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  EXPECT_EQ(written, static_cast<int>(bytes.size()));
  EXPECT_EQ(gzclose(file), Z_OK);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

void write_floats(const std::string& path, const std::vector<float>& values) {
  const auto* first = reinterpret_cast<const uint8_t*>(values.data());
  write_bytes(path, std::vector<uint8_t>(first, first + values.size() * sizeof(float)));
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> idx_images(uint32_t count, uint32_t rows, uint32_t cols,
                                const std::function<uint8_t(size_t image, size_t pixel)>& pixel) {
  std::vector<uint8_t> bytes;
  for (uint32_t value : {0x00000803u, count, rows, cols}) append_big_endian(bytes, value);
  for (size_t i = 0; i < count; ++i)
    for (size_t p = 0; p < size_t{rows} * cols; ++p) bytes.push_back(pixel(i, p));
  return bytes;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  append_big_endian(bytes, 0x00000801u);
  append_big_endian(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

void expect_data_error(const std::function<void()>& action, const std::vector<std::string>& parts) {
  try {
    action();
  } catch (const DataError& error) {
    const std::string message = error.what();
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    return;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "not a DataError: " << error.what();
    return;
  }
  ADD_FAILURE() << "no error; expected one mentioning " << (parts.empty() ? "" : parts[0]);
}

}  // namespace edgetrain::testing
