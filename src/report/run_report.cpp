#include "edgetrain/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <vector>

#include "edgetrain/embedded_chart_lib.h"
#include "edgetrain/error.h"
#include "io/atomic_file.h"

namespace edgetrain {
namespace {

namespace fs = std::filesystem;

std::string read_file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::string> read_if_present(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  return read_file_text(path);
}

std::string html_escape(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      quoted += c == '\n' ? "\\n" : c == '\t' ? "\\t" : " ";
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

// JSON inside a <script> element: "</" would end the element early; "<\/" is the same
// JSON ("\/" is an escaped "/", and "</" cannot occur outside a string).
std::string script_safe(const std::string& json) {
  std::string safe;
  safe.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    safe += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') safe += '\\';
  }
  return safe;
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// A CSV file of a header and rows of numbers (empty cells: no figure) or, in the columns
// named by `text_columns`, of words; json() gives {"columns": [...], "rows": [[...], ...]}.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // cells as JSON values

  bool has_figure(const std::string& column) const {
    const auto found = std::find(columns.begin(), columns.end(), column);
    if (found == columns.end()) return false;
    const size_t index = static_cast<size_t>(found - columns.begin());
    return std::any_of(rows.begin(), rows.end(),
                       [&](const auto& row) { return row[index] != "null"; });
  }

  std::string json() const {
    std::string text = "{\"columns\": [";
    for (size_t c = 0; c < columns.size(); ++c) text += (c ? ", " : "") + json_string(columns[c]);
    text += "], \"rows\": [";
    for (size_t r = 0; r < rows.size(); ++r) {
      text += r ? ", [" : "[";
      for (size_t c = 0; c < rows[r].size(); ++c) text += (c ? ", " : "") + rows[r][c];
      text += "]";
    }
    return text + "]}";
  }
};

CsvTable read_csv_table(const fs::path& path, const std::vector<std::string>& text_columns) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string());
  CsvTable table;
  std::string line;
  if (!std::getline(in, line) || line.empty()) throw Error(path.string() + ":1: no header line");
  table.columns = split_cells(line);
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> cells = split_cells(line);
    const std::string where = path.string() + ":" + std::to_string(number) + ": ";
    if (cells.size() != table.columns.size())
      throw Error(where + std::to_string(cells.size()) + " cells; the header names " +
                  std::to_string(table.columns.size()) + " columns");
    std::vector<std::string> row;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool text = std::find(text_columns.begin(), text_columns.end(), table.columns[c]) !=
                        text_columns.end();
      if (text) {
        row.push_back(json_string(cells[c]));
        continue;
      }
      if (cells[c].empty()) {
        row.push_back("null");
        continue;
      }
      char* end = nullptr;
      const double value = std::strtod(cells[c].c_str(), &end);
      if (*end != '\0')
        throw Error(where + "'" + cells[c] + "' in column " + table.columns[c] +
                    " is not a number");
      row.push_back(std::isfinite(value) ? cells[c] : "null");
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string data_uri_png(const fs::path& path) {
  const std::string bytes = read_file_text(path);
  return "data:image/png;base64," +
         base64_encode({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

// The files directly in `folder` whose names end with one of `endings`, by name.
std::vector<fs::path> files_ending(const fs::path& folder,
                                   const std::vector<std::string>& endings) {
  std::vector<fs::path> files;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() &&
        std::any_of(endings.begin(), endings.end(),
                    [&](const std::string& ending) { return name.ends_with(ending); }))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string embedded(const unsigned char* text) { return reinterpret_cast<const char*>(text); }

std::string data_block(const std::string& id, const std::string& json) {
  return "<script type=\"application/json\" id=\"" + id + "\">" + script_safe(json) + "</script>\n";
}

constexpr const char* kPageStyle = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 2px 8px; border: 1px solid #ddd; text-align: right; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.heatmap td { min-width: 2.2em; text-align: center; }
.predictions { display: flex; flex-wrap: wrap; gap: 8px; }
.prediction { border: 2px solid #4a4; padding: 4px; text-align: center; font-size: 12px; width: 96px; }
.prediction.mistake { border-color: #d33; }
.prediction img { width: 64px; height: 64px; image-rendering: pixelated; display: block; margin: 0 auto 2px; }
.bar { background: #58a; height: 10px; }
pre { background: #f7f7f7; padding: 1em; overflow: auto; }
#report-error { display: none; color: #fff; background: #c22; padding: 1em; white-space: pre-wrap; }
.pictures img { image-rendering: pixelated; max-width: 100%; margin-right: 1em; }
)css";

// Draws every section from the data blocks. Sets data-rendered on <body> to "ok" once all
// is drawn, or to "error" (and shows #report-error) on any uncaught error or
// console.error, so that a headless browser can tell a working page from a broken one.
constexpr const char* kPageScript = R"js(
(function () {
  "use strict";
  const errorBox = document.getElementById("report-error");
  function fail(message) {
    document.body.setAttribute("data-rendered", "error");
    errorBox.style.display = "block";
    errorBox.textContent += message + "\n";
  }
  window.onerror = function (message, source, line) { fail("error: " + message + " (line " + line + ")"); };
  const consoleError = console.error;
  console.error = function () { fail("console.error: " + Array.from(arguments).join(" ")); consoleError.apply(console, arguments); };

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const key in attributes || {}) node.setAttribute(key, attributes[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function percent(value) { return (100 * value).toFixed(2) + "%"; }
  function bytes(value) {
    if (value >= 1048576) return (value / 1048576).toFixed(2) + " MiB";
    if (value >= 1024) return (value / 1024).toFixed(1) + " KiB";
    return value + " B";
  }

  const metrics = data("metrics-data");
  function column(name) {
    const index = metrics.columns.indexOf(name);
    return index < 0 ? null : metrics.rows.map(function (row) { return row[index]; });
  }
  const epochs = column("epoch");
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c"];
  // A line chart of the named metrics columns (those with a figure) over the epochs.
  function chart(containerId, title, series, percentAxis) {
    const container = document.getElementById(containerId);
    if (!container) return;
    const lines = series.map(function (entry) { return [entry[0], column(entry[1])]; })
      .filter(function (entry) { return entry[1] && entry[1].some(function (v) { return v !== null; }); });
    const format = percentAxis ? function (u, v) { return v === null ? "-" : percent(v); } : undefined;
    new uPlot({
      title: title, width: 520, height: 280,
      scales: { x: { time: false } },
      axes: [{ label: "epoch" }, percentAxis ? { values: function (u, ticks) { return ticks.map(function (t) { return percent(t); }); }, size: 70 } : { size: 70 }],
      series: [{ label: "epoch" }].concat(lines.map(function (entry, i) {
        return { label: entry[0], stroke: colours[i % colours.length], width: 2, spanGaps: true,
                 points: { show: epochs.length < 60 }, value: format };
      })),
    }, [epochs].concat(lines.map(function (entry) { return entry[1]; })), container);
  }
  chart("loss-chart", "Loss", [["training", "train_loss"], ["validation", "val_loss"]], false);
  chart("accuracy-chart", "Accuracy", [["training", "train_accuracy"], ["validation", "val_accuracy"]], true);
  chart("learning-rate-chart", "Learning rate", [["learning rate", "learning_rate"]], false);

  const summary = document.getElementById("summary-figures");
  const train = data("train-data");
  const evaluation = data("eval-data");
  const figures = [["epochs", epochs.length]];
  if (train) {
    if (train.accuracy !== undefined) figures.push(["final training accuracy", percent(train.accuracy)]);
    if (train.val_accuracy !== undefined) figures.push(["final validation accuracy", percent(train.val_accuracy)]);
    if (train.planned_peak_bytes !== undefined) figures.push(["planned peak memory", bytes(train.planned_peak_bytes)]);
    if (train.peak_rss_kib !== undefined) figures.push(["measured peak RSS", bytes(train.peak_rss_kib * 1024)]);
  }
  if (evaluation) {
    if (evaluation.loss !== undefined && evaluation.loss !== null) figures.push(["test loss", evaluation.loss.toPrecision(4)]);
    if (evaluation.accuracy !== undefined) figures.push(["test accuracy", percent(evaluation.accuracy)]);
    if (evaluation.top5_accuracy !== undefined) figures.push(["test top-5 accuracy", percent(evaluation.top5_accuracy)]);
    if (evaluation.macro_f1 !== undefined) figures.push(["test macro F1", evaluation.macro_f1.toFixed(4)]);
  }
  const summaryTable = element("table");
  figures.forEach(function (figure) {
    const row = summaryTable.insertRow();
    row.appendChild(element("th", { class: "name" }, figure[0]));
    row.appendChild(element("td", {}, String(figure[1])));
  });
  summary.appendChild(summaryTable);

  const confusion = document.getElementById("confusion-matrix");
  if (confusion && evaluation && evaluation.confusion_matrix) {
    const names = evaluation.classes || evaluation.per_class.map(function (c) { return c.name; });
    const matrix = evaluation.confusion_matrix;
    const table = element("table", { class: "heatmap" });
    const head = table.insertRow();
    head.appendChild(element("th", { class: "name" }, "true \\ predicted"));
    names.forEach(function (name) { head.appendChild(element("th", {}, name)); });
    matrix.forEach(function (row, t) {
      const support = row.reduce(function (a, b) { return a + b; }, 0);
      const tr = table.insertRow();
      tr.appendChild(element("th", { class: "name" }, names[t]));
      row.forEach(function (count, p) {
        // Shaded by the share of the true class's rows: the diagonal is the recall.
        const share = support ? count / support : 0;
        const cell = element("td", { title: names[t] + " predicted as " + names[p] + ": " + count }, String(count));
        cell.style.background = (t === p ? "rgba(40,140,60," : "rgba(200,40,40,") + share.toFixed(3) + ")";
        if (share > 0.6) cell.style.color = "#fff";
        tr.appendChild(cell);
      });
    });
    confusion.appendChild(table);
  }
  const perClass = document.getElementById("per-class");
  if (perClass && evaluation && evaluation.per_class) {
    const table = element("table");
    const head = table.insertRow();
    ["class", "precision", "recall", "F1", "support"].forEach(function (name, i) { head.appendChild(element("th", i ? {} : { class: "name" }, name)); });
    evaluation.per_class.forEach(function (entry) {
      const row = table.insertRow();
      row.appendChild(element("td", { class: "name" }, entry.name));
      [entry.precision, entry.recall, entry.f1].forEach(function (v) { row.appendChild(element("td", {}, v.toFixed(4))); });
      row.appendChild(element("td", {}, String(entry.support)));
    });
    perClass.appendChild(table);
  }

  const predictions = data("predictions-data");
  const images = data("images-data") || {};
  const grid = document.getElementById("prediction-grid");
  if (grid && predictions) {
    predictions.predictions.forEach(function (entry) {
      const box = element("div", { class: "prediction" + (entry.correct ? "" : " mistake") });
      if (entry.image && images[entry.image]) box.appendChild(element("img", { src: images[entry.image], alt: "test image " + entry.index }));
      box.appendChild(element("div", {}, "true: " + entry.true_name));
      box.appendChild(element("div", {}, "predicted: " + entry.predicted_name));
      box.appendChild(element("div", {}, "(" + percent(entry.confidence) + ")"));
      grid.appendChild(box);
    });
  }

  const memory = data("memory-data");
  const memoryTable = document.getElementById("memory-table");
  if (memory && memoryTable) {
    const table = element("table");
    const head = table.insertRow();
    memory.columns.forEach(function (name, i) { head.appendChild(element("th", i < 2 ? { class: "name" } : {}, name)); });
    head.appendChild(element("th", { class: "name" }, "share of the sum"));
    const totalIndex = memory.columns.indexOf("total");
    const largest = Math.max.apply(null, memory.rows.map(function (row) { return row[totalIndex]; }).concat([1]));
    memory.rows.forEach(function (rowData) {
      const row = table.insertRow();
      rowData.forEach(function (value, i) { row.appendChild(element("td", i < 2 ? { class: "name" } : {}, i < 2 ? value : bytes(value))); });
      const barCell = element("td", { class: "name" });
      const bar = element("div", { class: "bar" });
      bar.style.width = (200 * rowData[totalIndex] / largest).toFixed(0) + "px";
      barCell.appendChild(bar);
      row.appendChild(barCell);
    });
    memoryTable.appendChild(table);
  }

  if (document.body.getAttribute("data-rendered") !== "error") document.body.setAttribute("data-rendered", "ok");
})();
)js";

}  // namespace

std::string base64_encode(std::span<const unsigned char> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = static_cast<uint32_t>(bytes[i]) << 16;
    if (left > 1) group |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) group |= bytes[i + 2];
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
    text += left > 1 ? kAlphabet[(group >> 6) & 63] : '=';
    text += left > 2 ? kAlphabet[group & 63] : '=';
  }
  return text;
}

std::string render_run_report(const std::string& run_dir) {
  const fs::path dir(run_dir);
  std::error_code error;
  if (!fs::is_directory(dir, error))
    throw Error("the run folder " + run_dir + " does not exist or is not a folder");
  const fs::path metrics_path = dir / run_files::kMetrics;
  if (!fs::is_regular_file(metrics_path, error))
    throw Error(run_dir + " has no metrics CSV (" + metrics_path.string() +
                "): is it a folder of edgetrain train --run-dir?");
  const CsvTable metrics = read_csv_table(metrics_path, {});
  for (const char* needed : {"epoch", "train_loss"})
    if (std::find(metrics.columns.begin(), metrics.columns.end(), needed) == metrics.columns.end())
      throw Error(metrics_path.string() + ":1: no column '" + needed + "'");
  std::optional<CsvTable> memory;
  if (fs::is_regular_file(dir / run_files::kMemory, error))
    memory = read_csv_table(dir / run_files::kMemory, {"layer", "type"});
  const std::optional<std::string> settings = read_if_present(dir / run_files::kSettings);
  const std::optional<std::string> train = read_if_present(dir / run_files::kTrainSummary);
  const std::optional<std::string> evaluation = read_if_present(dir / run_files::kEvaluation);
  const std::optional<std::string> predictions = read_if_present(dir / run_files::kPredictions);
  // A generative model's pictures, as train writes them beside the weights.
  const std::vector<fs::path> pictures =
      files_ending(dir, {".samples.png", ".reconstructions.png"});

  // "runs/mnist/" names the run "mnist" too.
  fs::path absolute = fs::absolute(dir).lexically_normal();
  if (!absolute.has_filename()) absolute = absolute.parent_path();
  const std::string name = absolute.filename().string();
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
       << html_escape(name) << " - edgetrain run report</title>\n<style>" << embedded(kUplotStyle)
       << "</style>\n<style>" << kPageStyle << "</style>\n</head>\n"
       << "<body data-rendered=\"pending\">\n<div id=\"report-error\"></div>\n<h1>Run "
       << html_escape(name) << "</h1>\n";
  html << "<section id=\"summary\"><h2>Summary</h2><div id=\"summary-figures\"></div></section>\n";
  html << "<section id=\"curves\"><h2>Training curves</h2><div class=\"charts\">"
       << "<div id=\"loss-chart\"></div>";
  if (metrics.has_figure("train_accuracy") || metrics.has_figure("val_accuracy"))
    html << "<div id=\"accuracy-chart\"></div>";
  if (metrics.has_figure("learning_rate")) html << "<div id=\"learning-rate-chart\"></div>";
  html << "</div></section>\n";
  if (evaluation && evaluation->find("\"confusion_matrix\"") != std::string::npos)
    html << "<section id=\"evaluation\"><h2>Test set</h2><h3>Confusion matrix</h3>"
         << "<p>Rows: the true class; columns: the predicted class. A cell's shade is its "
            "share of the true class's images.</p><div id=\"confusion-matrix\"></div>"
         << "<h3>Per class</h3><div id=\"per-class\"></div></section>\n";
  if (predictions)
    html << "<section id=\"predictions\"><h2>Test predictions</h2><p>Mistakes first (red), "
            "then correct predictions (green), with the predicted class's probability.</p>"
         << "<div id=\"prediction-grid\" class=\"predictions\"></div></section>\n";
  if (!pictures.empty()) {
    html << "<section id=\"pictures\"><h2>Pictures</h2><div class=\"pictures\">";
    for (const fs::path& picture : pictures)
      html << "<figure><img src=\"" << data_uri_png(picture) << "\" alt=\""
           << html_escape(picture.filename().string()) << "\"><figcaption>"
           << html_escape(picture.filename().string()) << "</figcaption></figure>";
    html << "</div></section>\n";
  }
  if (memory)
    html << "<section id=\"memory\"><h2>Planned memory per layer</h2><p>Bytes of each "
            "layer's tensors; they add up to the naive sum, not to the arena, which shares "
            "memory between tensors never alive together.</p><div id=\"memory-table\"></div>"
            "</section>\n";
  if (settings)
    html << "<section id=\"settings\"><h2>Settings</h2><pre>" << html_escape(*settings)
         << "</pre></section>\n";

  html << data_block("metrics-data", metrics.json());
  if (memory) html << data_block("memory-data", memory->json());
  if (train) html << data_block("train-data", *train);
  if (evaluation) html << data_block("eval-data", *evaluation);
  if (predictions) {
    html << data_block("predictions-data", *predictions);
    std::string images = "{";
    for (const fs::path& image : files_ending(dir / run_files::kPredictionImages, {".png"}))
      images +=
          std::string(images.size() > 1 ? ", " : "") +
          json_string(std::string(run_files::kPredictionImages) + "/" + image.filename().string()) +
          ": " + json_string(data_uri_png(image));
    html << data_block("images-data", images + "}");
  }
  html << "<script>" << embedded(kUplotScript) << "</script>\n<script>" << kPageScript
       << "</script>\n</body>\n</html>\n";
  return html.str();
}

void write_run_report(const std::string& run_dir, const std::string& html_path) {
  const std::string html = render_run_report(run_dir);
  AtomicFile file(html_path);
  file.write(std::as_bytes(std::span(html)));
  file.commit();
}

}  // namespace edgetrain
