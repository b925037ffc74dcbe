// The INI reader: NNTrainer's comment and quoting conventions, line numbers, and an error
// naming file and line for everything that is not a section, entry or comment.
#include <gtest/gtest.h>

#include <string>

#include "edgetrain/error.h"
#include "io/ini_parser.h"

namespace edgetrain {
namespace {

// The message of the ModelFileError that parsing `text` throws.
std::string parse_error(const std::string& text) {
  try {
    parse_ini(text, "test.ini");
  } catch (const ModelFileError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

TEST(IniParser, ReadsSectionsEntriesAndLines) {
  const IniDocument document = parse_ini(
      "[Model]\n"
      "Type = NeuralNetwork\n"
      "\n"
      "[conv1]\n"
      "Filters = 8\n",
      "test.ini");
  ASSERT_EQ(document.sections.size(), 2u);
  const IniSection& model = document.sections[0];
  EXPECT_EQ(model.name, "Model");
  EXPECT_EQ(model.line, 1u);
  ASSERT_EQ(model.entries.size(), 1u);
  EXPECT_EQ(model.entries[0].key, "Type");
  EXPECT_EQ(model.entries[0].value, "NeuralNetwork");
  EXPECT_EQ(model.entries[0].line, 2u);
  const IniSection& conv = document.sections[1];
  EXPECT_EQ(conv.name, "conv1");
  EXPECT_EQ(conv.line, 4u);
  ASSERT_EQ(conv.entries.size(), 1u);
  EXPECT_EQ(conv.entries[0].key, "Filters");
  EXPECT_EQ(conv.entries[0].value, "8");
  EXPECT_EQ(conv.entries[0].line, 5u);
}

TEST(IniParser, SkipsCommentLinesAndTrailingComments) {
  const IniDocument document = parse_ini(
      "# a comment\n"
      "; another\n"
      "   # indented\n"
      "[Model]   # the model\n"
      "Epochs = 1500\t\t# Epochs\n"
      "Loss = cross  \t\t# Loss function : mse (mean squared error)\n"
      "                        #                       cross ( for cross entropy )\n"
      "Empty =   # nothing before the comment\n",
      "test.ini");
  ASSERT_EQ(document.sections.size(), 1u);
  const IniSection& model = document.sections[0];
  ASSERT_EQ(model.entries.size(), 3u);
  EXPECT_EQ(model.entries[0].value, "1500");
  EXPECT_EQ(model.entries[1].value, "cross");
  EXPECT_EQ(model.entries[1].line, 6u);
  EXPECT_EQ(model.entries[2].value, "");
}

TEST(IniParser, TrimsWhitespaceAndKeepsCase) {
  const IniDocument document = parse_ini(
      "  [ Conv_1 ]  \r\n"
      "\tInput_Shape\t=\t1:28:28 \r\n"
      "  path=Data/Train.dat\r\n",
      "test.ini");
  const IniSection& section = document.sections.at(0);
  EXPECT_EQ(section.name, "Conv_1");
  EXPECT_EQ(section.entries.at(0).key, "Input_Shape");
  EXPECT_EQ(section.entries.at(0).value, "1:28:28");
  EXPECT_EQ(section.entries.at(1).key, "path");
  EXPECT_EQ(section.entries.at(1).value, "Data/Train.dat");
}

TEST(IniParser, RemovesQuotesAroundAWholeValue) {
  const IniDocument document = parse_ini(
      "[Model]\n"
      "Save_Path = \"model.bin\"  \t# model path to save / read\n"
      "metrics_path = 'runs/#3.csv'\n"
      "name = a \"b\" c\n",
      "test.ini");
  const IniSection& model = document.sections.at(0);
  EXPECT_EQ(model.entries.at(0).value, "model.bin");
  EXPECT_EQ(model.entries.at(1).value, "runs/#3.csv");  // '#' inside quotes is kept
  EXPECT_EQ(model.entries.at(2).value, "a \"b\" c");    // only whole-value quotes go
}

TEST(IniParser, SplitsAtTheFirstEquals) {
  const IniDocument document = parse_ini("[s]\nkey = a=b\n", "test.ini");
  EXPECT_EQ(document.sections.at(0).entries.at(0).value, "a=b");
}

TEST(IniParser, EmptyTextHasNoSections) {
  EXPECT_TRUE(parse_ini("", "test.ini").sections.empty());
  EXPECT_TRUE(parse_ini("# only a comment\n\n", "test.ini").sections.empty());
}

TEST(IniParser, DuplicateSectionIsAnErrorRegardlessOfCase) {
  EXPECT_EQ(parse_error("[Model]\n\n[model]\n"),
            "test.ini:3: duplicate section [model] (first at line 1; section names ignore case)");
}

TEST(IniParser, DuplicateKeyIsAnErrorRegardlessOfCase) {
  EXPECT_EQ(parse_error("[Model]\nEpochs = 1\nepochs = 2\n"),
            "test.ini:3: duplicate key 'epochs' in [Model] (first at line 2; keys ignore case)");
}

TEST(IniParser, TheSameKeyInTwoSectionsIsFine) {
  const IniDocument document = parse_ini("[a]\nType = input\n[b]\nType = flatten\n", "test.ini");
  EXPECT_EQ(document.sections.size(), 2u);
}

TEST(IniParser, GarbageLineIsAnError) {
  EXPECT_EQ(
      parse_error("[Model]\nEpochs = 1\nthis is not ini\n"),
      "test.ini:3: expected '[section]', 'key = value' or a comment, found 'this is not ini'");
}

TEST(IniParser, MalformedLinesAreErrors) {
  EXPECT_EQ(parse_error("Epochs = 1\n"),
            "test.ini:1: key 'Epochs' comes before the first [section]");
  EXPECT_EQ(parse_error("[Model\n"), "test.ini:1: missing ']' in '[Model'");
  EXPECT_EQ(parse_error("[]\n"), "test.ini:1: empty section name '[]'");
  EXPECT_EQ(parse_error("[Model] x\n"), "test.ini:1: unexpected text after ']' in '[Model] x'");
  EXPECT_EQ(parse_error("[Model]\n= 3\n"), "test.ini:2: missing key before '=' in '= 3'");
  EXPECT_EQ(parse_error("[Model]\nSave_Path = \"model.bin\n"),
            "test.ini:2: missing closing quote (\") in '\"model.bin'");
  EXPECT_EQ(parse_error("[Model]\nSave_Path = \"a\" b\n"),
            "test.ini:2: unexpected text after the closing quote in '\"a\" b'");
}

TEST(IniParser, MissingFileNamesIt) {
  try {
    read_ini_file(::testing::TempDir() + "/no_such_model.ini");
    FAIL() << "no error";
  } catch (const ModelFileError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot open '" + ::testing::TempDir() + "/no_such_model.ini': no such file");
  }
}

}  // namespace
}  // namespace edgetrain
