// Reading an input file whole, within bounds.
//
// Scenarios, designs and checkpoints are read only from regular files: a FIFO, a device
// (/dev/zero, /dev/urandom, a terminal), a socket or a directory is refused at once, without
// reading a byte (the file is opened with O_NONBLOCK, so opening a FIFO without a writer does not
// block, and checked with fstat before anything is read). The size is checked against a cap
// before reading, and again while reading (a file that grows meanwhile).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace cm {

inline constexpr std::uint64_t kMaxScenarioBytes = 16ull << 20;  // scenarios, designs: 16 MiB

// The content of the regular file path, of at most max_bytes; std::nullopt with error set to
// what is wrong ("is a FIFO, expected a regular file", "is 20971520 bytes, more than the
// 16777216 (16 MiB) allowed", "cannot open file: Permission denied", ...) otherwise. what names
// the kind of file expected in messages ("a YAML file").
std::optional<std::string> read_regular_file(const std::filesystem::path& path,
                                             std::uint64_t max_bytes, const std::string& what,
                                             std::string& error);

}  // namespace cm
