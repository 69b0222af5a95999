// The CSV reader on good and bad tables written by the test: bad cells are reported with
// the file, line and column; the label column is chosen by name or index.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "data/batch.h"
#include "data/csv.h"
#include "data/data_source.h"
#include "testing/idx_files.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;

std::string message_of(const std::string& text, const std::string& label = "") {
  try {
    parse_csv(text, "t.csv", label);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CsvReader, ReadsFeaturesAndTheLastColumnAsLabel) {
  const CsvTable t = parse_csv("a,b,\"class\"\r\n1.5,-2,3\r\n0,1e-3,0\n\n", "t.csv", "");
  EXPECT_EQ(t.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.label_name, "class");
  EXPECT_EQ(t.features, (std::vector<float>{1.5f, -2.0f, 0.0f, 1e-3f}));
  EXPECT_EQ(t.labels, (std::vector<std::int32_t>{3, 0}));
}

TEST(CsvReader, LabelColumnByNameOrIndex) {
  const std::string text = "y,f1,f2\n1,0.5,0.25\n0,2,4\n";
  for (const std::string& label : {std::string("y"), std::string("0")}) {
    const CsvTable t = parse_csv(text, "t.csv", label);
    EXPECT_EQ(t.labels, (std::vector<std::int32_t>{1, 0})) << label;
    EXPECT_EQ(t.features, (std::vector<float>{0.5f, 0.25f, 2.0f, 4.0f})) << label;
  }
  EXPECT_NE(message_of(text, "z").find("--label-column 'z' is neither a header name"),
            std::string::npos);
}

TEST(CsvReader, BadCellsNameTheLineAndColumn) {
  EXPECT_NE(message_of("a,b,c\n1,2,0\n3,x4,1\n")
                .find("t.csv line 3, column 2 ('b'): 'x4' "
                      "(expected a finite number)"),
            std::string::npos)
      << message_of("a,b,c\n1,2,0\n3,x4,1\n");
  EXPECT_NE(message_of("a,b\n1,\n").find("line 2, column 2 ('b'): '' (expected a class index"),
            std::string::npos);
  EXPECT_NE(message_of("a,b\n,1\n").find("line 2, column 1"), std::string::npos);
  EXPECT_NE(message_of("a,b\n1,-1\n").find("expected a class index"), std::string::npos);
  EXPECT_NE(message_of("a,b\n1,2.5\n").find("expected a class index"), std::string::npos);
  EXPECT_NE(message_of("a,b\n1,2,3\n").find("line 2: 3 cells (expected 2"), std::string::npos);
  EXPECT_NE(message_of("a,b\n1e99,2\n").find("expected a finite number"), std::string::npos);
  EXPECT_NE(message_of("").find("file is empty"), std::string::npos);
  EXPECT_NE(message_of("\n\n").find("file is empty"), std::string::npos);
  EXPECT_NE(message_of("a,b\n").find("no rows"), std::string::npos);
  EXPECT_NE(message_of("abc\n1\n").find("line 1: header has 1 column"), std::string::npos);
}

TEST(CsvReader, EveryPrefixOfAFileIsReadOrRefused) {
  const std::string text = "\"f\",g,label\n0.5,-1e-2,2\n3,4,1\n";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    try {
      parse_csv(text.substr(0, n), "t.csv", "");
    } catch (const DataError&) {
    }
  }
}

TEST(CsvReader, DirectoryWithTrainAndTestIsADataSet) {
  const fs::path dir = fs::path(::testing::TempDir()) / "csv_dir";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto put = [&](const std::string& name, const std::string& text) {
    testing::write_file((dir / name).string(), testing::Bytes(text.begin(), text.end()), false);
  };
  put("train.csv", "x0,x1,x2,label\n0,1,2,0\n3,4,5,1\n6,7,8,2\n");
  put("test.csv", "x0,x1,x2,label\n9,10,11,1\n");
  DataOptions o;
  o.path = dir.string();
  o.val_size = 1;
  const DataSplits s = load_data_splits(o);
  EXPECT_EQ(s.train.size(), 2u);
  EXPECT_EQ(s.test.size(), 1u);
  EXPECT_EQ(s.train.width, 3);
  EXPECT_EQ(s.train.num_classes, 3);
  std::vector<float> x(3);
  gather_range(s.test, 0, 1, x.data());
  EXPECT_EQ(x, (std::vector<float>{9, 10, 11}));
  put("test.csv", "x0,x9,x2,label\n9,10,11,1\n");
  EXPECT_THROW(load_data_splits(o), DataError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dtrain::data
