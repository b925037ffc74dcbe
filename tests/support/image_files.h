// Image files written by the tests themselves, with stb_image_write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgetrain::testing {

// Writes width x height pixels of `channels` interleaved bytes (H:W:C), creating the
// file's folder. Fails the test when the file cannot be written.
void write_png(const std::string& path, size_t width, size_t height, size_t channels,
               const std::vector<uint8_t>& pixels);
// RGB only; quality 100 keeps solid colours within a few levels.
void write_jpeg(const std::string& path, size_t width, size_t height,
                const std::vector<uint8_t>& rgb, int quality = 100);

}  // namespace edgetrain::testing
