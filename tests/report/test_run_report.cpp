// The run report: the sections a classifier's run folder and a VAE's (losses only) get,
// the data they carry, the embedded chart library, and errors naming the path.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/image_grid.h"
#include "edgetrain/run_report.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& html, const std::string& part) {
  return html.find(part) != std::string::npos;
}

std::string error_of(const std::string& run_dir) {
  try {
    render_run_report(run_dir);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

void write_tiny_png(const std::string& path) {
  const std::vector<float> pixels(4 * 4, 0.5f);
  write_image_grid(path, pixels, 1, {.channels = 1, .height = 4, .width = 4, .separator = 0});
}

TEST(RunReport, ClassifierRunHasCurvesConfusionMatrixPredictionsMemoryAndSettings) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "metrics.csv",
             "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,"
             "samples_per_second\n1,0.9,0.6,0.8,0.65,0.01,0.1,1000\n2,0.5,0.8,0.6,0.7,0.005,0.1,"
             "1000\n");
  write_text(dir + "eval.json",
             "{\"command\": \"eval\", \"loss\": 0.5, \"accuracy\": 0.75, \"samples\": 4, "
             "\"classes\": [\"cat\", \"dog\"], \"per_class\": [{\"name\": \"cat\", \"precision\": "
             "1, \"recall\": 0.5, \"f1\": 0.667, \"support\": 2}, {\"name\": \"dog\", "
             "\"precision\": 0.667, \"recall\": 1, \"f1\": 0.8, \"support\": 2}], "
             "\"confusion_matrix\": [[1, 1], [0, 2]]}\n");
  write_text(dir + "memory.csv",
             "layer,type,weights,optimizer_state,activations,gradients,scratch,total\n"
             "input,input,0,0,64,0,0,64\nfc,fully_connected,40,80,8,48,0,176\n");
  write_text(dir + "settings.ini", "[Model]\nLoss = cross\n# a <tag> & more\n");
  fs::create_directories(dir + "predictions");
  write_tiny_png(dir + "predictions/3.png");
  write_text(
      dir + "predictions.json",
      "{\"predictions\": [{\"index\": 3, \"true_name\": \"cat\", \"predicted_name\": "
      "\"dog\", \"confidence\": 0.6, \"correct\": false, \"image\": \"predictions/3.png\"}]}");

  const std::string html = render_run_report(dir);
  for (const char* section :
       {"id=\"loss-chart\"", "id=\"accuracy-chart\"", "id=\"learning-rate-chart\"",
        "id=\"confusion-matrix\"", "id=\"per-class\"", "id=\"prediction-grid\"",
        "id=\"memory-table\"", "id=\"settings\""})
    EXPECT_TRUE(has(html, section)) << section;
  // The data the page draws from, the image inlined, the settings escaped.
  EXPECT_TRUE(has(html, "\"rows\": [[1, 0.9, 0.6, 0.8, 0.65, 0.01, 0.1, 1000]"));
  EXPECT_TRUE(has(html, "\"confusion_matrix\": [[1, 1], [0, 2]]"));
  EXPECT_TRUE(has(html, "[\"fc\", \"fully_connected\", 40, 80, 8, 48, 0, 176]"));
  EXPECT_TRUE(has(html, "\"predictions/3.png\": \"data:image/png;base64,iVBORw0KGgo"));
  EXPECT_TRUE(has(html, "# a &lt;tag&gt; &amp; more"));
  // Self-contained: uPlot inlined, nothing fetched.
  EXPECT_TRUE(has(html, "leeoniya/uPlot"));
  EXPECT_FALSE(has(html, "<script src"));
  EXPECT_FALSE(has(html, "<link"));
}

TEST(RunReport, VaeRunHasLossCurvesAndPicturesOnly) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "metrics.csv",
             "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,"
             "samples_per_second\n1,120.5,,118.2,,0.001,1,500\n2,110.1,,109.9,,0.001,1,500\n");
  write_tiny_png(dir + "vae.samples.png");
  write_tiny_png(dir + "vae.reconstructions.png");
  write_tiny_png(dir + "unrelated.png");

  const std::string html = render_run_report(dir);
  EXPECT_TRUE(has(html, "id=\"loss-chart\""));
  EXPECT_TRUE(has(html, "id=\"learning-rate-chart\""));
  EXPECT_TRUE(has(html, "[1, 120.5, null, 118.2, null, 0.001, 1, 500]"));
  EXPECT_TRUE(has(html, "<figcaption>vae.samples.png</figcaption>"));
  EXPECT_TRUE(has(html, "<figcaption>vae.reconstructions.png</figcaption>"));
  EXPECT_FALSE(has(html, "unrelated.png"));
  for (const char* absent : {"id=\"accuracy-chart\"", "id=\"confusion-matrix\"",
                             "id=\"prediction-grid\"", "id=\"memory-table\"", "id=\"settings\""})
    EXPECT_FALSE(has(html, absent)) << absent;
}

TEST(RunReport, JsonWithClosingScriptTagStaysInsideItsBlock) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "metrics.csv", "epoch,train_loss\n1,0.5\n");
  write_text(dir + "eval.json", "{\"classes\": [\"</script><b>\"], \"confusion_matrix\": [[1]]}");
  const std::string html = render_run_report(dir);
  EXPECT_TRUE(has(html, "[\"<\\/script><b>\"]"));
  EXPECT_FALSE(has(html, "</script><b>"));
}

TEST(RunReport, ErrorsNameTheFolderOrFile) {
  const std::string dir = fresh_temp_dir();
  EXPECT_TRUE(has(error_of(dir + "missing"), dir + "missing does not exist"));
  EXPECT_TRUE(has(error_of(dir), "has no metrics CSV (" + dir + "metrics.csv)"));
  write_text(dir + "metrics.csv", "epoch,train_loss\n1,0.5\n2,abc\n");
  EXPECT_TRUE(has(error_of(dir), dir + "metrics.csv:3: 'abc' in column train_loss"));
  write_text(dir + "metrics.csv", "epoch,train_loss\n1,0.5,7\n");
  EXPECT_TRUE(has(error_of(dir), dir + "metrics.csv:2: 3 cells; the header names 2 columns"));
  write_text(dir + "metrics.csv", "epoch,loss\n1,0.5\n");
  EXPECT_TRUE(has(error_of(dir), dir + "metrics.csv:1: no column 'train_loss'"));
}

TEST(RunReport, WritesTheFileAndNamesOneItCannotWrite) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "metrics.csv", "epoch,train_loss\n1,0.5\n");
  write_run_report(dir, dir + "report.html");
  EXPECT_TRUE(fs::file_size(dir + "report.html") > 50000u);  // uPlot alone is about 50 kB
  try {
    write_run_report(dir, dir + "no/such/folder/report.html");
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_TRUE(has(error.what(), dir + "no/such/folder/report.html"));
  }
}

TEST(Base64, EncodesWithPadding) {
  auto encode = [](const std::string& text) {
    return base64_encode({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  };
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(encode("\xff\xfe"), "//4=");
}

}  // namespace
}  // namespace edgetrain::testing
