// engine/byte_codec.hpp: the one byte codec of checkpoints, the cluster protocol and the
// partition exchange. Round trips, the fixed little-endian layout, zeroed padding, and refusal
// of every size that runs past the end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/byte_codec.hpp"

namespace {

using cm::ByteCodecError;
using cm::ByteReader;
using cm::ByteWriter;

enum class Colour : std::uint16_t { red = 7, blue = 0x1234 };

struct Padded {
  std::uint8_t a;  // 3 padding bytes follow
  std::uint32_t b;
  double c;
  bool operator==(const Padded&) const = default;
};

TEST(ByteCodec, ValuesTextsAndListsRoundTrip) {
  ByteWriter w;
  w.value<std::int32_t>(-5).value<std::uint64_t>(std::numeric_limits<std::uint64_t>::max());
  w.value(0.1).value(-0.0).value(std::numeric_limits<double>::quiet_NaN());
  w.value(true).value(false).value(Colour::blue).value<float>(1.5f);
  w.text("").text(std::string("a\0b", 3));
  const std::vector<int> ints{3, -1, 4};
  w.list(ints, [&](int x) { w.value<std::int64_t>(x); });

  ByteReader r(std::span<const std::uint8_t>(w.buffer()), "test");
  EXPECT_EQ(r.get<std::int32_t>(), -5);
  EXPECT_EQ(r.get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(r.get<double>(), 0.1);
  const double nz = r.get<double>();
  EXPECT_EQ(nz, 0.0);
  EXPECT_TRUE(std::signbit(nz));
  EXPECT_TRUE(std::isnan(r.get<double>()));
  EXPECT_TRUE(r.get<bool>());
  EXPECT_FALSE(r.get<bool>());
  EXPECT_EQ(r.get<Colour>(), Colour::blue);
  EXPECT_EQ(r.get<float>(), 1.5f);
  EXPECT_EQ(r.text(), "");
  EXPECT_EQ(r.text(), std::string("a\0b", 3));
  std::vector<int> back;
  r.list(back, [&](int& x) { x = static_cast<int>(r.get<std::int64_t>()); });
  EXPECT_EQ(back, ints);
  EXPECT_NO_THROW(r.end());
}

TEST(ByteCodec, ValuesAreLittleEndianWhateverTheMachine) {
  ByteWriter w;
  w.value<std::uint32_t>(0x01020304u).value(Colour::blue).text("hi").value(1.0);
  const std::vector<std::uint8_t> expected{0x04, 0x03, 0x02, 0x01,  // u32
                                           0x34, 0x12,              // enum u16
                                           2,    0,    0,    0,    0, 0, 0,    0,
                                           'h',  'i',                                  // text
                                           0,    0,    0,    0,    0, 0, 0xf0, 0x3f};  // 1.0
  EXPECT_EQ(w.buffer(), expected);
}

TEST(ByteCodec, RecordsRoundTripWithTheirPaddingZeroed) {
  // Two records equal in value but with different garbage in their padding give the same bytes.
  Padded x, y;
  std::memset(static_cast<void*>(&x), 0xAB, sizeof x);
  std::memset(static_cast<void*>(&y), 0xCD, sizeof y);
  x.a = y.a = 9;
  x.b = y.b = 77;
  x.c = y.c = 2.5;
  ByteWriter wx, wy;
  wx.record(x);
  wy.record(y);
  ASSERT_EQ(wx.size(), sizeof(Padded));
  EXPECT_EQ(wx.buffer(), wy.buffer());
  EXPECT_EQ(wx.buffer()[1], 0);  // a padding byte
  EXPECT_EQ(wx.buffer()[3], 0);

  ByteWriter w;
  const std::vector<Padded> v{{1, 2, 3.0}, {4, 5, 6.0}};
  w.records(v).record(x);
  ByteReader r(w.view(), "test");
  std::vector<Padded> back;
  r.records(back);
  EXPECT_EQ(back, v);
  Padded z{};
  r.record(z);
  EXPECT_EQ(z, x);
  r.end();
}

TEST(ByteCodec, RecordsToTheEndMustBeWhole) {
  ByteWriter w;
  w.record(std::uint32_t{1}).record(std::uint32_t{2});
  std::vector<std::uint32_t> v{0};
  ByteReader(w.view(), "t").records_to_end(v);
  EXPECT_EQ(v, (std::vector<std::uint32_t>{0, 1, 2}));
  w.value<std::uint8_t>(3);
  std::vector<std::uint32_t> u;
  try {
    ByteReader(w.view(), "partitioned run: a message").records_to_end(u);
    FAIL() << "a partial record was accepted";
  } catch (const ByteCodecError& e) {
    EXPECT_NE(std::string(e.what()).find("partitioned run: a message: 9 bytes are not a whole"),
              std::string::npos)
        << e.what();
  }
}

// Every way a count or length can lie is refused before anything is read or allocated.
TEST(ByteCodec, SizesThatRunPastTheEndAreRefused) {
  ByteWriter w;
  w.value<std::uint64_t>(std::numeric_limits<std::uint64_t>::max());
  const auto huge = w.take();
  auto reader = [&] { return ByteReader(std::span<const std::uint8_t>(huge), "ctx"); };
  {
    auto r = reader();
    EXPECT_THROW(r.text(), ByteCodecError);
  }
  {
    auto r = reader();
    std::vector<double> v;
    EXPECT_THROW(r.records(v), ByteCodecError);
    EXPECT_TRUE(v.empty());
  }
  {
    auto r = reader();
    std::vector<int> v;
    EXPECT_THROW(r.list(v, [](int&) {}), ByteCodecError);
  }
  {
    auto r = reader();
    EXPECT_THROW(r.skip(9), ByteCodecError);
  }
  // A text one byte short, a value cut in the middle, bytes left over.
  ByteWriter t;
  t.text("abc");
  auto cut = t.take();
  cut.pop_back();
  ByteReader rc(std::span<const std::uint8_t>(cut), "ctx");
  try {
    rc.text();
    FAIL();
  } catch (const ByteCodecError& e) {
    EXPECT_EQ(std::string(e.what()), "ctx: truncated (needs 3 more bytes at offset 8, has 2)");
  }
  const std::vector<std::uint8_t> three{1, 2, 3};
  ByteReader r3(std::span<const std::uint8_t>(three), "ctx");
  EXPECT_THROW(r3.get<std::uint32_t>(), ByteCodecError);
  EXPECT_EQ(r3.get<std::uint16_t>(), 0x0201);
  EXPECT_THROW(r3.end(), ByteCodecError);
}

TEST(ByteCodec, ABoolIsZeroOrOne) {
  const std::vector<std::uint8_t> two{2};
  ByteReader r(std::span<const std::uint8_t>(two), "ctx");
  EXPECT_THROW(r.get<bool>(), ByteCodecError);
}

// The error type is the reader's: a checkpoint reader throws its own error class.
struct OwnError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
TEST(ByteCodec, TheReaderThrowsItsOwnErrorType) {
  cm::BasicByteReader<OwnError> r(std::string_view(""), "mine");
  EXPECT_THROW(r.get<std::uint8_t>(), OwnError);
}

TEST(ByteCodec, AStringBufferHoldsTheSameBytes) {
  cm::BasicByteWriter<std::string> s;
  ByteWriter v;
  s.value<std::uint32_t>(42).text("x").record(Padded{1, 2, 3.0});
  v.value<std::uint32_t>(42).text("x").record(Padded{1, 2, 3.0});
  EXPECT_EQ(s.view(), v.view());
}

}  // namespace
