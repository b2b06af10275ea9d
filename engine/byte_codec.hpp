// The one byte codec of caremesh: checkpoints, the cluster protocol of distributed experiments
// and the partition exchange of territory-partitioned runs all write and read through it.
//
// - Values (integers, floating point, enums, bool) are written little-endian, whatever the
//   machine (a double by its bit pattern, so exactly); bool is one byte, 0 or 1.
// - Texts are a 64-bit length and the bytes.
// - Records are plain structs written as they are in memory, with their padding bytes zeroed
//   (__builtin_clear_padding, GCC 11+; a compiler without it copies them as they are), so the
//   same values always give the same bytes. A memory image is read back only by the same build
//   on a machine of the same byte order: a file format that stores records says so in its
//   header (see the checkpoint's layout and byte-order mark).
//
// Every read checks its size against what is left before it reads or allocates: a length or
// count that runs past the end is refused, never trusted. A failure throws `Error` (a type
// constructible from a string) with the reader's context: "<context>: <what>".
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cm {

// A failure to decode (short, malformed or oversized input).
class ByteCodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace bytes {

template <class T>
inline constexpr bool is_value_v = std::is_arithmetic_v<T> || std::is_enum_v<T>;

// The little-endian bytes of an integer of N bytes at `at`.
template <class U>
void store_le(std::uint8_t* at, U v) {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(at, &v, sizeof v);
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
template <class U>
U load_le(const std::uint8_t* at) {
  static_assert(std::is_unsigned_v<U>);
  U v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, at, sizeof v);
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i) v |= static_cast<U>(U{at[i]} << (8 * i));
  }
  return v;
}

// The unsigned integer type of N bytes (1, 2, 4 or 8).
template <std::size_t N>
using unsigned_of_t = std::conditional_t<
    N == 1, std::uint8_t,
    std::conditional_t<N == 2, std::uint16_t,
                       std::conditional_t<N == 4, std::uint32_t, std::uint64_t>>>;

// A value's bits as that unsigned integer, and back.
template <class T>
auto bits_of(T v) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);
  using U = unsigned_of_t<sizeof(T)>;
  if constexpr (std::is_enum_v<T>)
    return static_cast<U>(static_cast<std::underlying_type_t<T>>(v));
  else
    return std::bit_cast<U>(v);
}
template <class T, class U>
T from_bits(U u) {
  if constexpr (std::is_enum_v<T>)
    return static_cast<T>(std::bit_cast<std::underlying_type_t<T>>(u));
  else
    return std::bit_cast<T>(u);
}

// Appends the memory image of one plain record, its padding zeroed.
template <class T, class Buffer>
void append_record(Buffer& out, const T& r) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const std::uint8_t*>(&r);
#if defined(__has_builtin)
#if __has_builtin(__builtin_clear_padding)
  if constexpr (!std::has_unique_object_representations_v<T> && !std::is_arithmetic_v<T>) {
    T copy;
    std::memcpy(static_cast<void*>(&copy), static_cast<const void*>(&r), sizeof(T));
    __builtin_clear_padding(&copy);
    const auto* q = reinterpret_cast<const std::uint8_t*>(&copy);
    out.insert(out.end(), q, q + sizeof(T));
    return;
  }
#endif
#endif
  out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace bytes

// Appends values, texts and records to a byte buffer (std::vector<std::uint8_t> or std::string).
template <class Buffer>
class BasicByteWriter {
 public:
  static constexpr bool reading = false;

  BasicByteWriter() = default;

  template <class T>
  BasicByteWriter& value(const T& v) {
    static_assert(bytes::is_value_v<T>);
    if constexpr (std::is_same_v<T, bool>) {
      buf_.push_back(static_cast<typename Buffer::value_type>(v ? 1 : 0));
    } else {
      const auto u = bytes::bits_of(v);
      std::uint8_t b[sizeof u];
      bytes::store_le(b, u);
      raw(b, sizeof b);
    }
    return *this;
  }
  BasicByteWriter& text(std::string_view s) {
    value<std::uint64_t>(s.size());
    return raw(s.data(), s.size());
  }
  template <class T>
  BasicByteWriter& record(const T& r) {
    bytes::append_record(buf_, r);
    return *this;
  }
  // A count, then the records' memory images.
  template <class T>
  BasicByteWriter& records(const std::vector<T>& v) {
    value<std::uint64_t>(v.size());
    if constexpr (std::has_unique_object_representations_v<T> || std::is_arithmetic_v<T>) {
      if (!v.empty()) raw(v.data(), v.size() * sizeof(T));
    } else {
      for (const T& x : v) record(x);
    }
    return *this;
  }
  // A count, then each item through f(item).
  template <class T, class F>
  BasicByteWriter& list(const std::vector<T>& v, F&& f) {
    value<std::uint64_t>(v.size());
    for (const T& x : v) f(x);
    return *this;
  }
  BasicByteWriter& raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const typename Buffer::value_type*>(p);
    buf_.insert(buf_.end(), b, b + n);
    return *this;
  }
  template <class Bytes>
  BasicByteWriter& raw(const Bytes& b) {
    return raw(b.data(), b.size());
  }

  std::size_t size() const { return buf_.size(); }
  const Buffer& buffer() const { return buf_; }
  Buffer& buffer() { return buf_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(buf_.data()), buf_.size()};
  }
  Buffer take() { return std::move(buf_); }

 private:
  Buffer buf_;
};

using ByteWriter = BasicByteWriter<std::vector<std::uint8_t>>;

// Reads what BasicByteWriter wrote; every size is checked before it is used.
template <class Error = ByteCodecError>
class BasicByteReader {
 public:
  static constexpr bool reading = true;

  BasicByteReader(std::string_view data, std::string context)
      : data_(reinterpret_cast<const std::uint8_t*>(data.data())),
        size_(data.size()),
        context_(std::move(context)) {}
  BasicByteReader(std::span<const std::uint8_t> data, std::string context)
      : data_(data.data()), size_(data.size()), context_(std::move(context)) {}

  template <class T>
  void value(T& v) {
    static_assert(bytes::is_value_v<T>);
    if constexpr (std::is_same_v<T, bool>) {
      need(1);
      const std::uint8_t b = data_[pos_++];
      if (b > 1) fail("a true/false value is " + std::to_string(b));
      v = b == 1;
    } else {
      using U = bytes::unsigned_of_t<sizeof(T)>;
      need(sizeof(U));
      v = bytes::from_bits<T>(bytes::load_le<U>(data_ + pos_));
      pos_ += sizeof(U);
    }
  }
  template <class T>
  T get() {
    T v{};
    value(v);
    return v;
  }
  std::uint64_t u64() { return get<std::uint64_t>(); }

  void text(std::string& s) {
    const std::uint64_t n = u64();
    need(n);
    s.assign(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
  }
  std::string text() {
    std::string s;
    text(s);
    return s;
  }
  template <class T>
  void record(T& r) {
    static_assert(std::is_trivially_copyable_v<T>);
    raw(&r, sizeof(T));
  }
  template <class T>
  void records(std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::uint64_t n = u64();
    if (n > remaining() / sizeof(T))
      fail("a list of " + std::to_string(n) + " records runs past the end");
    v.resize(n);
    if (n > 0) raw(v.data(), n * sizeof(T));
  }
  // Every record up to the end, appended to v; the bytes left must be whole records.
  template <class T>
  void records_to_end(std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() % sizeof(T) != 0)
      fail(std::to_string(remaining()) + " bytes are not a whole number of " +
           std::to_string(sizeof(T)) + "-byte records");
    const std::size_t at = v.size();
    v.resize(at + remaining() / sizeof(T));
    if (remaining() > 0) raw(v.data() + at, remaining());
  }
  // A count (each item at least one byte, so a count past the end is refused before any
  // allocation), then each item through f(item).
  template <class T, class F>
  void list(std::vector<T>& v, F&& f) {
    const std::uint64_t n = u64();
    if (n > remaining()) fail("a list of " + std::to_string(n) + " items runs past the end");
    v.clear();
    v.resize(n);
    for (T& x : v) f(x);
  }
  void raw(void* p, std::size_t n) {
    need(n);
    if (n > 0) std::memcpy(p, data_ + pos_, n);
    pos_ += n;
  }

  std::size_t remaining() const { return size_ - pos_; }
  std::size_t pos() const { return pos_; }
  std::span<const std::uint8_t> rest() const { return {data_ + pos_, remaining()}; }
  std::string_view rest_view() const {
    return {reinterpret_cast<const char*>(data_ + pos_), remaining()};
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  // Nothing may be left.
  void end() const {
    if (remaining() != 0) fail(std::to_string(remaining()) + " bytes after the end");
  }
  [[noreturn]] void fail(const std::string& what) const { throw Error(context_ + ": " + what); }
  const std::string& context() const { return context_; }

 private:
  void need(std::uint64_t n) const {
    if (n > remaining())
      fail("truncated (needs " + std::to_string(n) + " more bytes at offset " +
           std::to_string(pos_) + ", has " + std::to_string(remaining()) + ")");
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string context_;
};

using ByteReader = BasicByteReader<>;

}  // namespace cm
