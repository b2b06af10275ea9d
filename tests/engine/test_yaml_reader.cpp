// Tests for the strict YAML reader: every diagnostic is checked as the exact located text
// "FILE:LINE:COL: path: message" that a user would see.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/yaml_reader.hpp"

namespace {

using cm::Diagnostics;
using cm::Document;
using cm::Node;
using cm::InputError;

class YamlReader : public ::testing::Test {
 protected:
  Node load(const std::string& text) {
    doc_ = Document::load_string(text, "s.yaml", diags_);
    return doc_.root();
  }
  std::string report() const { return diags_.report(); }

  Diagnostics diags_;
  Document doc_;
};

// ---- Diagnostic / Diagnostics / InputError ------------------------------------------------

TEST(Diagnostics, FormatsFileLineColumnPathMessage) {
  Diagnostics d;
  d.add({"a.yaml", 3, 7}, "x.y[2]", "bad");
  d.add({"a.yaml", 0, 0}, "", "cannot open");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.items()[0].str(), "a.yaml:3:7: x.y[2]: bad");
  EXPECT_EQ(d.items()[1].str(), "a.yaml:0:0: cannot open");  // no path: no empty segment
}

TEST(Diagnostics, ReportSortsByLineThenColumnAndRemovesDuplicates) {
  Diagnostics d;
  d.add({"f", 5, 2}, "e", "fifth");
  d.add({"f", 1, 9}, "b", "second");
  d.add({"f", 1, 3}, "a", "first");
  d.add({"f", 5, 2}, "e", "fifth");  // exact duplicate
  d.add({"f", 2, 1}, "c", "third");
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d.report(),
            "f:1:3: a: first\n"
            "f:1:9: b: second\n"
            "f:2:1: c: third\n"
            "f:5:2: e: fifth\n");
}

TEST(Diagnostics, ReportKeepsFilesInOrderOfFirstAppearance) {
  Diagnostics d;
  d.add({"main.yaml", 9, 1}, "", "m9");
  d.add({"inc.yaml", 1, 1}, "", "i1");
  d.add({"main.yaml", 2, 1}, "", "m2");
  EXPECT_EQ(d.report(), "main.yaml:2:1: m2\nmain.yaml:9:1: m9\ninc.yaml:1:1: i1\n");
}

TEST(Diagnostics, EmptyReportIsEmpty) {
  Diagnostics d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.report(), "");
}

TEST(Diagnostics, InputErrorWhatIsTheReport) {
  Diagnostics d;
  d.add({"f", 2, 1}, "b", "two");
  d.add({"f", 1, 1}, "a", "one");
  const InputError e(d);
  EXPECT_STREQ(e.what(), "f:1:1: a: one\nf:2:1: b: two\n");
  EXPECT_EQ(e.diagnostics().size(), 2u);
}

// ---- loading ------------------------------------------------------------------------------------

TEST_F(YamlReader, ValidDocumentLoadsWithoutDiagnostics) {
  const Node root = load("name: demo\npopulation: 12\nrate: 0.25\n");
  EXPECT_TRUE(doc_.ok());
  EXPECT_TRUE(root.is_map());
  EXPECT_EQ(root.require_string("name"), "demo");
  EXPECT_EQ(root.require_integer("population", 0, 100), 12);
  EXPECT_DOUBLE_EQ(root.require_number("rate", 0, 1), 0.25);
  root.finish();
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, SyntaxErrorIsLocatedWithYamlCppMessage) {
  const Node root = load("a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_FALSE(doc_.ok());
  EXPECT_FALSE(root.present());
  EXPECT_EQ(report(), "s.yaml:3:2: YAML syntax error: end of sequence flow not found\n");
}

TEST_F(YamlReader, SyntaxErrorIllegalMapValue) {
  load("name: demo\nrate: a: b\n");
  EXPECT_EQ(report(), "s.yaml:2:8: YAML syntax error: illegal map value\n");
}

TEST_F(YamlReader, TabIndentationIsASyntaxError) {
  load("a: 1\n\tb: 2\n");
  EXPECT_EQ(report(), "s.yaml:2:1: YAML syntax error: illegal tab when looking for indentation\n");
}

TEST_F(YamlReader, EmptyTextIsReported) {
  const Node root = load("");
  EXPECT_FALSE(doc_.ok());
  EXPECT_FALSE(root.present());
  EXPECT_EQ(report(), "s.yaml:1:1: the file is empty, expected a scenario mapping\n");
}

TEST_F(YamlReader, CommentsOnlyOrNullDocumentIsEmpty) {
  load("# nothing here\n\n");
  load("---\n...\n");
  load("~\n");
  EXPECT_EQ(diags_.size(), 3u);
  EXPECT_EQ(report(), "s.yaml:1:1: the file is empty, expected a scenario mapping\n");
}

TEST_F(YamlReader, SecondDocumentIsReportedButFirstStaysReadable) {
  const Node root = load("a: 1\n---\nb: 2\n");
  EXPECT_FALSE(doc_.ok());
  EXPECT_EQ(root.integer("a", 0, 0, 9), 1);
  EXPECT_EQ(report(),
            "s.yaml:3:1: a second YAML document, expected a single document (remove the "
            "\"---\" separator)\n");
}

TEST_F(YamlReader, TrailingDocumentSeparatorIsHarmless) {
  load("a: 1\n---\n");
  EXPECT_TRUE(doc_.ok());
  EXPECT_EQ(report(), "");
}

// ---- duplicate keys
// ------------------------------------------------------------------------------

TEST_F(YamlReader, DuplicateKeysAreReportedWithFirstDefinition) {
  const Node root = load(
      "name: a\n"
      "org:\n"
      "  size: 1\n"
      "  name: x\n"
      "  size: 2\n"
      "name: b\n");
  EXPECT_FALSE(doc_.ok());
  EXPECT_TRUE(root.is_map());  // still readable to find further problems
  EXPECT_EQ(report(),
            "s.yaml:5:3: org.size: duplicate key \"size\" (first defined at line 3), expected "
            "each key once\n"
            "s.yaml:6:1: name: duplicate key \"name\" (first defined at line 1), expected each "
            "key once\n");
}

TEST_F(YamlReader, DuplicateKeysInsideSequencesAndFlowMappings) {
  load("items:\n  - {a: 1, b: 2, a: 3}\n  - x: 1\n    x: 2\n");
  EXPECT_EQ(report(),
            "s.yaml:2:18: items[0].a: duplicate key \"a\" (first defined at line 2), expected "
            "each key once\n"
            "s.yaml:4:5: items[1].x: duplicate key \"x\" (first defined at line 3), expected "
            "each key once\n");
}

TEST_F(YamlReader, DuplicateInsideAnAliasedMappingIsReportedOnce) {
  load("base: &b {k: 1, k: 2}\nx: *b\ny: *b\n");
  EXPECT_EQ(diags_.size(), 1u);
  EXPECT_EQ(report(),
            "s.yaml:1:17: base.k: duplicate key \"k\" (first defined at line 1), expected each "
            "key once\n");
}

TEST_F(YamlReader, DuplicateKeyIsNotAlsoReportedAsUnknown) {
  const Node root = load("a: 1\na: 2\n");
  root.finish();
  EXPECT_EQ(diags_.size(), 2u);  // the duplicate and the unknown "a" (only once)
  EXPECT_EQ(report(),
            "s.yaml:1:1: a: unknown key \"a\" (no keys are expected here)\n"
            "s.yaml:2:1: a: duplicate key \"a\" (first defined at line 1), expected each key "
            "once\n");
}

// ---- files -------------------------------------------------------------------------------------

class YamlFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("cm_yaml_reader_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out << bytes;
    return p.string();
  }
  std::filesystem::path dir_;
  Diagnostics diags_;
};

TEST_F(YamlFiles, ReadsAFile) {
  const std::string path = write("ok.yaml", "population: 5\n");
  Document doc = Document::load_file(path, diags_);
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(doc.root().require_integer("population", 0, 10), 5);
  EXPECT_EQ(diags_.report(), "");
}

TEST_F(YamlFiles, ErrorsNameTheFileAsGiven) {
  const std::string path = write("bad.yaml", "population: -5\n");
  Document doc = Document::load_file(path, diags_);
  doc.root().require_integer("population", 0, 10);
  EXPECT_EQ(diags_.report(),
            path + ":1:13: population: expected a whole number between 0 and 10, got \"-5\"\n");
}

TEST_F(YamlFiles, MissingFile) {
  const std::string path = (dir_ / "nope.yaml").string();
  Document doc = Document::load_file(path, diags_);
  EXPECT_FALSE(doc.ok());
  EXPECT_FALSE(doc.root().present());
  EXPECT_EQ(diags_.report(), path +
                                 ":0:0: cannot open file: No such file or directory, expected a "
                                 "readable YAML file\n");
}

TEST_F(YamlFiles, Directory) {
  Document doc = Document::load_file(dir_.string(), diags_);
  EXPECT_FALSE(doc.ok());
  EXPECT_FALSE(doc.root().present());
  EXPECT_EQ(diags_.report(), dir_.string() + ":0:0: is a directory, expected a YAML file\n");
}

TEST_F(YamlFiles, EmptyFile) {
  const std::string path = write("empty.yaml", "");
  Document doc = Document::load_file(path, diags_);
  EXPECT_FALSE(doc.ok());
  EXPECT_EQ(diags_.report(), path + ":1:1: the file is empty, expected a scenario mapping\n");
}

TEST_F(YamlFiles, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  const std::string path = write("secret.yaml", "a: 1\n");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  Document doc = Document::load_file(path, diags_);
  EXPECT_FALSE(doc.ok());
  EXPECT_EQ(diags_.report(),
            path + ":0:0: cannot open file: Permission denied, expected a readable YAML file\n");
}

TEST_F(YamlFiles, NonUtf8FileIsLocated) {
  // "name: caf\xE9" in Latin-1: the byte 0xE9 is at line 2, column 10
  const std::string path = write("latin1.yaml", "a: 1\nname: caf\xE9\n");
  Document doc = Document::load_file(path, diags_);
  EXPECT_FALSE(doc.ok());
  EXPECT_FALSE(doc.root().present());
  EXPECT_EQ(diags_.report(), path +
                                 ":2:10: invalid UTF-8 byte 0xE9, expected UTF-8 text (was the "
                                 "file saved as Latin-1 or Windows-1252?)\n");
}

// ---- encoding ----------------------------------------------------------------------------------

TEST_F(YamlReader, ValidUtf8AndByteOrderMarkAreAccepted) {
  const Node root = load("\xEF\xBB\xBFname: caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n");
  EXPECT_TRUE(doc_.ok());
  EXPECT_EQ(root.require_string("name"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, ColumnsCountBytesLikeYamlCpp) {
  // "é" is two bytes: the value "x" starts at byte column 6 after "é: " (é=2, ':'=1, ' '=1)
  const Node root = load("\xC3\xA9: [1]\nk: \xC3\xA9\xC3\xA9 \xFF\n");
  EXPECT_FALSE(root.present());
  EXPECT_EQ(report(),
            "s.yaml:2:9: invalid UTF-8 byte 0xFF, expected UTF-8 text (was the file saved as "
            "Latin-1 or Windows-1252?)\n");
}

TEST_F(YamlReader, InvalidUtf8SequencesAreRejected) {
  struct Case {
    std::string text, byte, column;
  };
  const std::vector<Case> cases = {
      {"a: \xC3\n", "0xC3", "4"},              // truncated two-byte sequence
      {"a: \xC3(\n", "0xC3", "4"},             // bad continuation byte
      {"a: \xC0\xAF\n", "0xC0", "4"},          // overlong "/"
      {"a: \xE0\x80\xAF\n", "0xE0", "4"},      // overlong three-byte form
      {"a: \xED\xA0\x80\n", "0xED", "4"},      // UTF-16 surrogate
      {"a: \xF4\x90\x80\x80\n", "0xF4", "4"},  // above U+10FFFF
      {"a: \x80\n", "0x80", "4"},              // lone continuation byte
      {"a: ok\xE2\x82", "0xE2", "6"},          // truncated at the end of the text
  };
  for (const auto& c : cases) {
    Diagnostics d;
    Document doc = Document::load_string(c.text, "u.yaml", d);
    EXPECT_FALSE(doc.ok()) << c.byte;
    EXPECT_EQ(d.report(), "u.yaml:1:" + c.column + ": invalid UTF-8 byte " + c.byte +
                              ", expected UTF-8 text (was the file saved as Latin-1 or "
                              "Windows-1252?)\n")
        << c.byte;
  }
}

TEST_F(YamlReader, Utf16IsRejected) {
  load(
      std::string("\xFF\xFE"
                  "a\0:\0",
                  6));
  EXPECT_EQ(report(), "s.yaml:1:1: the file is UTF-16 or UTF-32 encoded, expected UTF-8 text\n");
}

TEST_F(YamlReader, ControlCharactersAreRejected) {
  load(std::string("a: 1\nb: x\0y\n", 11));
  EXPECT_EQ(report(),
            "s.yaml:2:5: control character 0x00 is not allowed, expected printable text\n");
}

TEST_F(YamlReader, CrLfLineEndingsAreFine) {
  const Node root = load("a: 1\r\nb: 2\r\n");
  EXPECT_TRUE(doc_.ok());
  EXPECT_EQ(root.integer("b", 0, 0, 9), 2);
}

// ---- hostile documents
// ---------------------------------------------------------------------------

std::string nested_sequences(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') + "1" +
         std::string(static_cast<std::size_t>(depth), ']') + "\n";
}

TEST_F(YamlReader, NestingUpToTheLimitIsAccepted) {
  load(nested_sequences(Document::kMaxDepth));
  EXPECT_TRUE(doc_.ok());
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, NestingBeyondTheLimitIsReported) {
  const Node root = load("a:\n  b: " + nested_sequences(Document::kMaxDepth - 1));
  EXPECT_FALSE(doc_.ok());
  EXPECT_FALSE(root.present());
  std::string path = "a.b";
  for (int i = 0; i < Document::kMaxDepth - 2; ++i) path += "[0]";
  EXPECT_EQ(report(), "s.yaml:2:" + std::to_string(6 + Document::kMaxDepth - 2) + ": " + path +
                          ": nesting is deeper than 64 levels, expected at most 64 nested "
                          "mappings and sequences\n");
}

TEST_F(YamlReader, ExtremeNestingDoesNotCrash) {
  const Node root = load(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_FALSE(root.present());
  ASSERT_EQ(diags_.size(), 1u);
  // the parser's own limit (500 in yaml-cpp 0.7) may differ between versions
  const std::string r = report();
  EXPECT_EQ(r.rfind("s.yaml:1:1: nesting is too deep for the YAML parser (it stops at ", 0), 0u)
      << r;
  EXPECT_NE(r.find(" levels), expected at most 64 nested mappings and sequences\n"),
            std::string::npos)
      << r;
}

TEST_F(YamlReader, AliasesAreAllowed) {
  const Node root = load("defaults: &d {rate: 0.5}\nfirst: *d\nsecond: *d\n");
  EXPECT_TRUE(doc_.ok());
  EXPECT_DOUBLE_EQ(root.child("second").number("rate", 0, 0, 1), 0.5);
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, AliasBombIsStopped) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  const std::string names = "abcdefgh";
  for (std::size_t i = 1; i < names.size(); ++i) {
    text += std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int k = 0; k < 10; ++k) text += std::string(k ? ", *" : "*") + names[i - 1];
    text += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const Node root = load(text);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 20.0);
  EXPECT_FALSE(doc_.ok());
  EXPECT_FALSE(root.present());
  EXPECT_EQ(report(),
            "s.yaml:1:1: document too large after expanding aliases (alias bomb?): more than "
            "1000000 nodes, expected at most 1000000\n");
}

TEST_F(YamlReader, LargeButReasonableDocumentIsAccepted) {
  std::string text = "values: [";
  for (int i = 0; i < 20000; ++i) text += (i ? ", " : "") + std::to_string(i);
  text += "]\n";
  const Node root = load(text);
  EXPECT_TRUE(doc_.ok());
  EXPECT_EQ(root.child("values").items().size(), 20000u);
}

TEST_F(YamlReader, RecursiveAliasIsReported) {
  const Node root = load("a: 1\nloop: &x [1, *x]\n");
  EXPECT_FALSE(doc_.ok());
  EXPECT_FALSE(root.present());
  EXPECT_EQ(report(),
            "s.yaml:2:7: loop[1]: an alias refers to a mapping or sequence that contains it "
            "(recursive alias), expected a finite document\n");
}

// ---- numbers -----------------------------------------------------------------------------------

TEST_F(YamlReader, NumberOutOfRangeReportsTheRange) {
  const Node root = load("population:\n  rate: 1.5\n");
  EXPECT_DOUBLE_EQ(root.child("population").number("rate", 0.25, 0.0, 1.0), 0.25);
  EXPECT_EQ(report(),
            "s.yaml:2:9: population.rate: expected a number between 0 and 1, got \"1.5\"\n");
}

TEST_F(YamlReader, NumberAcceptsIntegersFloatsAndExponents) {
  const Node root = load("a: 3\nb: -2.5\nc: 1e3\nd: +0.5\ne: .5\nf: \"0.75\"\n");
  EXPECT_DOUBLE_EQ(root.number("a", 0, -1e9, 1e9), 3.0);
  EXPECT_DOUBLE_EQ(root.number("b", 0, -1e9, 1e9), -2.5);
  EXPECT_DOUBLE_EQ(root.number("c", 0, -1e9, 1e9), 1000.0);
  EXPECT_DOUBLE_EQ(root.number("d", 0, -1e9, 1e9), 0.5);
  EXPECT_DOUBLE_EQ(root.number("e", 0, -1e9, 1e9), 0.5);
  EXPECT_DOUBLE_EQ(root.number("f", 0, -1e9, 1e9), 0.75);
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, NumberRejectsNonNumbers) {
  const Node root = load(
      "flag: true\n"
      "word: abc\n"
      "map: {x: 1}\n"
      "list: [1]\n"
      "hex: 0x10\n"
      "underscore: 1_000\n"
      "signs: +-1\n");
  for (const char* key : {"flag", "word", "map", "list", "hex", "underscore", "signs"}) {
    EXPECT_DOUBLE_EQ(root.number(key, 7.0, 0.0, 100.0), 7.0) << key;
  }
  EXPECT_EQ(report(),
            "s.yaml:1:7: flag: expected a number between 0 and 100, got \"true\"\n"
            "s.yaml:2:7: word: expected a number between 0 and 100, got \"abc\"\n"
            "s.yaml:3:6: map: expected a number between 0 and 100, got a mapping\n"
            "s.yaml:4:7: list: expected a number between 0 and 100, got a sequence\n"
            "s.yaml:5:6: hex: expected a number between 0 and 100, got \"0x10\"\n"
            "s.yaml:6:13: underscore: expected a number between 0 and 100, got \"1_000\"\n"
            "s.yaml:7:8: signs: expected a number between 0 and 100, got \"+-1\"\n");
}

TEST_F(YamlReader, NumberRejectsNanAndInfinity) {
  const Node root = load("a: .nan\nb: .inf\nc: -.Inf\nd: nan\ne: infinity\nf: 1e999\n");
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) {
    const double v = root.number(key, 1.0, -1e308, 1e308);
    EXPECT_TRUE(std::isfinite(v)) << key;
    EXPECT_DOUBLE_EQ(v, 1.0) << key;
  }
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected a number, got \".nan\" (not-a-number is not allowed)\n"
            "s.yaml:2:4: b: expected a number, got \".inf\" (infinity is not allowed)\n"
            "s.yaml:3:4: c: expected a number, got \"-.Inf\" (infinity is not allowed)\n"
            "s.yaml:4:4: d: expected a number, got \"nan\" (not-a-number is not allowed)\n"
            "s.yaml:5:4: e: expected a number, got \"infinity\" (infinity is not allowed)\n"
            "s.yaml:6:4: f: expected a number, got \"1e999\" (too large)\n");
}

TEST_F(YamlReader, OneSidedRangesAreDescribed) {
  const Node root = load("a: -1\nb: 11\nc: -3\n");
  root.number("a", 0, 0.0, 1e300);
  root.number("b", 0, -std::numeric_limits<double>::infinity(), 10.5);
  root.integer("c", 0, 0, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected a number >= 0, got \"-1\"\n"
            "s.yaml:2:4: b: expected a number <= 10.5, got \"11\"\n"
            "s.yaml:3:4: c: expected a whole number >= 0, got \"-3\"\n");
}

TEST_F(YamlReader, RangeBoundsAreInclusive) {
  const Node root = load("lo: 0\nhi: 1\n");
  EXPECT_DOUBLE_EQ(root.number("lo", 0.5, 0.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(root.number("hi", 0.5, 0.0, 1.0), 1.0);
  EXPECT_EQ(root.integer("lo", 5, 0, 1), 0);
  EXPECT_EQ(root.integer("hi", 5, 0, 1), 1);
  EXPECT_EQ(report(), "");
}

// ---- integers ----------------------------------------------------------------------------------

TEST_F(YamlReader, IntegerAcceptsWholeNumbers) {
  const Node root = load("a: 42\nb: -7\nc: 1e6\nd: 2.0\ne: 9223372036854775807\nf: +3\n");
  EXPECT_EQ(root.integer("a", 0, -100, 100), 42);
  EXPECT_EQ(root.integer("b", 0, -100, 100), -7);
  EXPECT_EQ(root.integer("c", 0, 0, 10'000'000), 1'000'000);
  EXPECT_EQ(root.integer("d", 0, 0, 10), 2);
  EXPECT_EQ(root.integer("e", 0, 0, std::numeric_limits<std::int64_t>::max()),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(root.integer("f", 0, 0, 10), 3);
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, IntegerRejectsFractionsOverflowAndJunk) {
  const Node root = load(
      "a: 2.5\n"
      "b: 99999999999999999999\n"
      "c: 1e30\n"
      "d: 11\n"
      "e: false\n"
      "f: .inf\n"
      "g: [1]\n");
  for (const char* key : {"a", "b", "c", "d", "e", "f", "g"}) {
    EXPECT_EQ(root.integer(key, 3, 1, 10), 3) << key;
  }
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected a whole number between 1 and 10, got \"2.5\" (not a whole "
            "number)\n"
            "s.yaml:2:4: b: expected a whole number between 1 and 10, got "
            "\"99999999999999999999\" (too large)\n"
            "s.yaml:3:4: c: expected a whole number between 1 and 10, got \"1e30\" (too large)\n"
            "s.yaml:4:4: d: expected a whole number between 1 and 10, got \"11\"\n"
            "s.yaml:5:4: e: expected a whole number between 1 and 10, got \"false\"\n"
            "s.yaml:6:4: f: expected a whole number between 1 and 10, got \".inf\" (infinity is "
            "not allowed)\n"
            "s.yaml:7:4: g: expected a whole number between 1 and 10, got a sequence\n");
}

// ---- booleans, strings, choices --------------------------------------------------------------

TEST_F(YamlReader, BooleanAcceptsYamlBooleanWords) {
  const Node root = load("a: true\nb: false\nc: yes\nd: off\ne: True\n");
  EXPECT_TRUE(root.boolean("a", false));
  EXPECT_FALSE(root.boolean("b", true));
  EXPECT_TRUE(root.boolean("c", false));
  EXPECT_FALSE(root.boolean("d", true));
  EXPECT_TRUE(root.boolean("e", false));
  EXPECT_TRUE(root.boolean("missing", true));
  EXPECT_FALSE(root.boolean("missing", false));
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, BooleanRejectsOtherValues) {
  const Node root = load("a: maybe\nb: 1\nc: {x: 1}\n");
  EXPECT_TRUE(root.boolean("a", true));
  EXPECT_FALSE(root.boolean("b", false));
  EXPECT_TRUE(root.boolean("c", true));
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected true or false, got \"maybe\"\n"
            "s.yaml:2:4: b: expected true or false, got \"1\"\n"
            "s.yaml:3:4: c: expected true or false, got a mapping\n");
}

TEST_F(YamlReader, StringAcceptsAnyScalarButNotCollections) {
  const Node root = load("a: hello\nb: 12\nc: \"\"\nd: [x]\ne: {k: v}\n");
  EXPECT_EQ(root.string("a", "-"), "hello");
  EXPECT_EQ(root.string("b", "-"), "12");
  EXPECT_EQ(root.string("c", "-"), "");
  EXPECT_EQ(root.string("d", "-"), "-");
  EXPECT_EQ(root.require_string("e"), "");
  EXPECT_EQ(root.string("missing", "fallback"), "fallback");
  EXPECT_EQ(report(),
            "s.yaml:4:4: d: expected a string, got a sequence\n"
            "s.yaml:5:4: e: expected a string, got a mapping\n");
}

TEST_F(YamlReader, ChoiceListsTheAllowedWordsAndSuggests) {
  const Node root = load("policy: fifo\nother: lifo\nthird: prority\nfourth: [a]\n");
  EXPECT_EQ(root.choice("policy", "priority", {"fifo", "priority"}), "fifo");
  EXPECT_EQ(root.choice("other", "fifo", {"fifo", "priority"}), "fifo");
  EXPECT_EQ(root.choice("third", "fifo", {"fifo", "priority"}), "fifo");
  EXPECT_EQ(root.choice("fourth", "fifo", {"fifo", "priority"}), "fifo");
  EXPECT_EQ(root.choice("missing", "priority", {"fifo", "priority"}), "priority");
  EXPECT_EQ(report(),
            "s.yaml:2:8: other: expected one of \"fifo\", \"priority\", got \"lifo\" (did you "
            "mean \"fifo\"?)\n"
            "s.yaml:3:8: third: expected one of \"fifo\", \"priority\", got \"prority\" (did "
            "you mean \"priority\"?)\n"
            "s.yaml:4:9: fourth: expected one of \"fifo\", \"priority\", got a sequence\n");
}

TEST_F(YamlReader, LongAndMultiLineValuesAreQuotedOnOneLine) {
  const Node root = load("a: \"line one\\nline \\\"two\\\"\"\nb: " + std::string(100, 'x') + "\n");
  root.number("a", 0, 0, 1);
  root.number("b", 0, 0, 1);
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected a number between 0 and 1, got \"line one\\nline "
            "\\\"two\\\"\"\n"
            "s.yaml:2:4: b: expected a number between 0 and 1, got \"" +
                std::string(60, 'x') + "...\"\n");
}

TEST_F(YamlReader, LongValuesAreCutBetweenUtf8Characters) {
  // 59 ASCII bytes, then "é" (2 bytes) straddling the 60-byte cut, then another "é"
  const std::string ascii = std::string(1, 'x') + std::string(40, 'y') + std::string(18, 'z');
  const Node root = load("a: " + ascii + "\xC3\xA9\xC3\xA9\n");
  root.number("a", 0, 0, 1);
  EXPECT_EQ(report(),
            "s.yaml:1:4: a: expected a number between 0 and 1, got \"" + ascii + "\xC3\xA9...\"\n");
}

// ---- missing and empty values ----------------------------------------------------------------

TEST_F(YamlReader, MissingRequiredKeysAreReportedAtTheMapping) {
  const Node root = load(
      "name: demo\n"
      "organizations:\n"
      "  - name: a\n"
      "    population: 3\n"
      "  - name: b\n");
  root.require_integer("population", 0, std::numeric_limits<std::int64_t>::max());
  int i = 0;
  for (const Node& org : root.child("organizations").items()) {
    org.require_string("name");
    EXPECT_EQ(org.require_integer("population", 0, 1000), i == 0 ? 3 : 0);
    ++i;
  }
  EXPECT_EQ(report(),
            "s.yaml:1:1: missing required key \"population\" (a whole number >= 0)\n"
            "s.yaml:5:5: organizations[1]: missing required key \"population\" (a whole number "
            "between 0 and 1000)\n");
}

TEST_F(YamlReader, RequiredFallbacksStayInRange) {
  const Node root = load("x: 1\n");
  EXPECT_DOUBLE_EQ(root.require_number("a", 2.0, 3.0), 2.0);
  EXPECT_EQ(root.require_integer("b", 5, 9), 5);
  EXPECT_EQ(root.require_string("c"), "");
  EXPECT_EQ(diags_.size(), 3u);
  EXPECT_EQ(report(),
            "s.yaml:1:1: missing required key \"a\" (a number between 2 and 3)\n"
            "s.yaml:1:1: missing required key \"b\" (a whole number between 5 and 9)\n"
            "s.yaml:1:1: missing required key \"c\" (a string)\n");
}

TEST_F(YamlReader, ExplicitNullHasNoValueForOptionalAndRequiredKeys) {
  const Node root = load("a:\nb: ~\nc: null\nd: 'null'\ne:\n");
  EXPECT_DOUBLE_EQ(root.number("a", 0.5, 0, 1), 0.5);
  EXPECT_EQ(root.require_integer("b", 0, 9), 0);
  EXPECT_EQ(root.string("c", "dflt"), "dflt");
  EXPECT_EQ(root.string("d", "dflt"), "null");  // quoted: a string
  EXPECT_TRUE(root.has("e"));
  EXPECT_TRUE(root.child("e").exists());
  EXPECT_FALSE(root.child("e").present());
  EXPECT_EQ(root.boolean("e", true), true);
  EXPECT_EQ(report(),
            "s.yaml:1:1: a: has no value, expected a number between 0 and 1\n"
            "s.yaml:2:1: b: has no value, expected a whole number between 0 and 9\n"
            "s.yaml:3:1: c: has no value, expected a string\n"
            "s.yaml:5:1: e: has no value, expected true or false\n");
}

TEST_F(YamlReader, AbsentParentReportsNothingMore) {
  const Node root = load("a: 1\n");
  const Node missing = root.child("section");
  EXPECT_FALSE(missing.exists());
  EXPECT_FALSE(missing.present());
  EXPECT_FALSE(root.child("section").child("deeper").present());
  EXPECT_EQ(missing.require_integer("population", 0, 10), 0);
  EXPECT_DOUBLE_EQ(missing.number("rate", 0.3, 0, 1), 0.3);
  EXPECT_EQ(missing.require_string("name"), "");
  EXPECT_EQ(missing.choice("c", "x", {"x", "y"}), "x");
  EXPECT_TRUE(missing.items().empty());
  EXPECT_TRUE(missing.entries().empty());
  EXPECT_FALSE(missing.has("x"));
  EXPECT_EQ(missing.as_integer(0, 5, 4), 4);
  missing.finish();
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, DefaultNodeIsAbsent) {
  const Node n;
  EXPECT_FALSE(n.exists());
  EXPECT_FALSE(n.present());
  EXPECT_EQ(n.require_integer("a", 0, 1), 0);
  EXPECT_TRUE(n.diags().empty());
  n.error("explicit");
  EXPECT_EQ(n.diags().report(), ":0:0: explicit\n");
}

// ---- kinds of nodes ----------------------------------------------------------------------------

TEST_F(YamlReader, KeyedAccessOnANonMappingIsReportedOnce) {
  const Node root = load("org: just a word\nempty:\n");
  const Node org = root.child("org");
  EXPECT_EQ(org.require_integer("population", 0, 10), 0);
  EXPECT_EQ(org.require_string("name"), "");
  EXPECT_FALSE(org.has("x"));
  const Node empty = root.child("empty");
  empty.require_string("name");
  empty.number("rate", 0, 0, 1);
  EXPECT_EQ(diags_.size(), 2u);
  EXPECT_EQ(report(),
            "s.yaml:1:6: org: expected a mapping (with key \"population\"), got \"just a "
            "word\"\n"
            "s.yaml:2:1: empty: has no value, expected a mapping (with key \"name\")\n");
}

TEST_F(YamlReader, ItemsGivesIndexedPathsAndPositions) {
  const Node root = load("values:\n  - 1\n  - 2.5\n  - x\n  -\n  - 4\n");
  const auto items = root.child("values").items();
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].path(), "values[0]");
  EXPECT_EQ(items[4].path(), "values[4]");
  EXPECT_EQ(items[1].location().line, 3);
  EXPECT_EQ(items[1].location().column, 5);
  EXPECT_EQ(items[0].as_integer(0, 9), 1);
  EXPECT_EQ(items[1].as_integer(0, 9, 7), 7);
  EXPECT_DOUBLE_EQ(items[2].as_number(0, 9, 0.5), 0.5);
  EXPECT_EQ(items[3].as_string("none"), "none");  // an empty item
  EXPECT_EQ(items[4].as_string(), "4");
  EXPECT_EQ(report(),
            "s.yaml:2:3: values[3]: has no value, expected a string\n"
            "s.yaml:3:5: values[1]: expected a whole number between 0 and 9, got \"2.5\" (not "
            "a whole number)\n"
            "s.yaml:4:5: values[2]: expected a number between 0 and 9, got \"x\"\n");
}

TEST_F(YamlReader, ItemsAndEntriesOnTheWrongKind) {
  const Node root = load("list: {a: 1}\nmap: [1, 2]\nnone:\nroot_items: 1\n");
  EXPECT_TRUE(root.child("list").items().empty());
  EXPECT_TRUE(root.child("map").entries().empty());
  EXPECT_TRUE(root.child("none").items().empty());
  EXPECT_TRUE(root.items().empty());
  EXPECT_EQ(report(),
            "s.yaml:1:1: expected a sequence, got a mapping\n"
            "s.yaml:1:7: list: expected a sequence, got a mapping\n"
            "s.yaml:2:6: map: expected a mapping, got a sequence\n"
            "s.yaml:3:1: none: has no value, expected a sequence\n");
}

TEST_F(YamlReader, EntriesGivesKeysInOrderAndMarksThemUsed) {
  const Node root = load("set:\n  b: 2\n  a: 1\n  \"odd.key\": 3\n");
  const Node set = root.child("set");
  const auto entries = set.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].first, "b");
  EXPECT_EQ(entries[0].second.path(), "set.b");
  EXPECT_EQ(entries[1].first, "a");
  EXPECT_EQ(entries[2].first, "odd.key");
  EXPECT_EQ(entries[2].second.path(), "set[\"odd.key\"]");
  EXPECT_EQ(entries[1].second.as_integer(0, 9), 1);
  set.finish();
  root.finish();
  EXPECT_EQ(report(), "");
}

TEST_F(YamlReader, ComplexKeysAreReported) {
  const Node root = load("? [a, b]\n: 1\nc: 2\n");
  EXPECT_EQ(root.integer("c", 0, 0, 9), 2);
  root.finish();
  EXPECT_EQ(report(), "s.yaml:1:3: expected a plain key, got a sequence\n");
}

TEST_F(YamlReader, KindQueries) {
  const Node root = load("m: {a: 1}\ns: [1]\nv: x\nn:\n");
  EXPECT_TRUE(root.child("m").is_map());
  EXPECT_TRUE(root.child("s").is_sequence());
  EXPECT_TRUE(root.child("v").is_scalar());
  EXPECT_FALSE(root.child("n").is_scalar());
  EXPECT_FALSE(root.child("n").is_map());
  EXPECT_FALSE(root.child("zz").is_map());
  EXPECT_EQ(root.child("m").path(), "m");
  EXPECT_EQ(root.child("m").child("a").path(), "m.a");
  EXPECT_EQ(root.child("m").yaml()["a"].as<int>(), 1);
  EXPECT_EQ(report(), "");
}

// ---- unknown keys
// --------------------------------------------------------------------------------

TEST_F(YamlReader, UnknownKeySuggestsTheClosestKnownKey) {
  const Node root = load(
      "name: demo\n"
      "organizations:\n"
      "  - name: a\n"
      "    popultion: 3\n"
      "    Name: b\n");
  root.require_string("name");
  for (const Node& org : root.child("organizations").items()) {
    org.require_string("name");
    org.integer("population", 0, 0, 100);
    org.finish();
  }
  root.finish();
  EXPECT_EQ(report(),
            "s.yaml:4:5: organizations[0].popultion: unknown key \"popultion\" (did you mean "
            "\"population\"?)\n"
            "s.yaml:5:5: organizations[0].Name: unknown key \"Name\" (did you mean \"name\"?)\n");
}

TEST_F(YamlReader, UnknownKeyWithoutNearMatchListsTheKnownKeys) {
  const Node root = load("zeta: 1\nalpha: 2\nsomething: 3\n");
  root.integer("zeta", 0, 0, 9);
  root.integer("alpha", 0, 0, 9);
  root.finish();
  EXPECT_EQ(report(),
            "s.yaml:3:1: something: unknown key \"something\" (expected one of: alpha, "
            "zeta)\n");
}

TEST_F(YamlReader, UsedKeysAreSharedAcrossCopiesOfANode) {
  const Node root = load("section:\n  a: 1\n  b: 2\n  c: 3\n");
  root.child("section").integer("a", 0, 0, 9);
  const Node copy = root.child("section");
  copy.has("b");
  const Node another = root.child("section");
  another.finish();
  another.finish();  // a second finish reports nothing new
  root.finish();
  EXPECT_EQ(diags_.size(), 1u);
  EXPECT_EQ(report(), "s.yaml:4:3: section.c: unknown key \"c\" (expected one of: a, b)\n");
}

TEST_F(YamlReader, AliasedMappingIsCheckedWhereItIsUsed) {
  const Node root = load("base: &b {rate: 0.5, extra: 1}\nuse: *b\n");
  root.has("base");
  const Node use = root.child("use");
  use.number("rate", 0, 0, 1);
  use.finish();
  root.finish();
  EXPECT_EQ(report(), "s.yaml:1:22: use.extra: unknown key \"extra\" (expected one of: rate)\n");
}

TEST_F(YamlReader, MergeKeysAreExplained) {
  const Node root = load("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n");
  root.has("base");
  const Node item = root.child("item");
  item.integer("y", 0, 0, 9);
  item.finish();
  root.finish();
  EXPECT_EQ(report(),
            "s.yaml:3:3: item[\"<<\"]: merge keys (\"<<\") are not supported, expected the keys "
            "written out (an alias can only stand for a whole value)\n");
}

TEST_F(YamlReader, FinishOnNonMappingsDoesNothing) {
  const Node root = load("a: [1, {b: 2}]\nc: word\n");
  root.child("a").finish();
  root.child("c").finish();
  root.child("missing").finish();
  EXPECT_EQ(report(), "");
}

// ---- explicit errors ---------------------------------------------------------------------------

TEST_F(YamlReader, ErrorAndErrorAtPointAtTheNodeOrItsKey) {
  const Node root = load("org:\n  name: x\n  size:   4\n");
  const Node org = root.child("org");
  org.error("something about org");
  org.error_at("size", "size is odd");
  org.error_at("nokey", "not there");
  org.child("size").error("the value itself");
  EXPECT_EQ(report(),
            "s.yaml:2:3: org: something about org\n"
            "s.yaml:2:3: org.nokey: not there\n"
            "s.yaml:3:3: org.size: size is odd\n"
            "s.yaml:3:11: org.size: the value itself\n");
}

TEST_F(YamlReader, ErrorOnAnAbsentChildPointsAtTheParent) {
  const Node root = load("name: x\norg:\n  name: y\n");
  root.child("districts").error("missing required key \"districts\" (a list)");
  root.child("org").child("helpers").error("need helpers");
  EXPECT_EQ(report(),
            "s.yaml:1:1: districts: missing required key \"districts\" (a list)\n"
            "s.yaml:3:3: org.helpers: need helpers\n");
}

TEST_F(YamlReader, ManyProblemsAreAllReportedInOrder) {
  const Node root = load(
      "name: demo\n"
      "horizon_days: 0\n"
      "rate: lots\n"
      "services:\n"
      "  - name: care\n"
      "    capacity: -1\n"
      "  - capacity: 2\n"
      "    shared: maybe\n"
      "extra: 1\n");
  root.require_string("name");
  root.integer("horizon_days", 365, 1, 36500);
  root.number("rate", 0.1, 0, 1);
  for (const Node& s : root.child("services").items()) {
    s.require_string("name");
    s.integer("capacity", 1, 0, 100);
    s.boolean("shared", false);
    s.finish();
  }
  root.finish();
  EXPECT_EQ(diags_.size(), 6u);
  EXPECT_EQ(report(),
            "s.yaml:2:15: horizon_days: expected a whole number between 1 and 36500, got "
            "\"0\"\n"
            "s.yaml:3:7: rate: expected a number between 0 and 1, got \"lots\"\n"
            "s.yaml:6:15: services[0].capacity: expected a whole number between 0 and 100, got "
            "\"-1\"\n"
            "s.yaml:7:5: services[1]: missing required key \"name\" (a string)\n"
            "s.yaml:8:13: services[1].shared: expected true or false, got \"maybe\"\n"
            "s.yaml:9:1: extra: unknown key \"extra\" (expected one of: horizon_days, name, "
            "rate, services)\n");
}

// ---- standalone nodes ------------------------------------------------------------------------

TEST(YamlNode, StandaloneNodeHasItsOwnDiagnostics) {
  YAML::Node y = YAML::Load("a: 1.5\n");
  const Node n(y, "cfg", nullptr);
  EXPECT_TRUE(n.is_map());
  EXPECT_EQ(n.integer("a", 0, 0, 9), 0);
  EXPECT_EQ(n.diags().size(), 1u);
  EXPECT_EQ(n.diags().report(),
            ":1:4: cfg.a: expected a whole number between 0 and 9, got \"1.5\" (not a whole "
            "number)\n");
}

TEST(YamlNode, SharedContextReportsIntoTheDocument) {
  Diagnostics diags;
  Document doc = Document::load_string("a: 1\n", "d.yaml", diags);
  const Node root = doc.root();
  const Node extra(YAML::Load("b: x\n"), "override", root.context());
  extra.number("b", 0, 0, 1);
  EXPECT_EQ(&extra.diags(), &diags);
  EXPECT_EQ(diags.report(),
            "d.yaml:1:4: override.b: expected a number between 0 and 1, got "
            "\"x\"\n");
}

}  // namespace
