// Stopping cleanly on SIGINT and SIGTERM.
//
// While a StopSignalScope is alive, the first SIGINT or SIGTERM sets a process-wide stop flag
// (and prints the scope's message on stderr); long-running work polls stop_requested() at a
// safe point (a tick boundary, between runs), saves what it has and exits with status 130. A
// second signal restores the default action and re-raises it, so an impatient user can always
// stop at once; files are written atomically (engine/output.hpp), so that leaves nothing
// half-written either. The handler only stores to lock-free atomics and calls write(2),
// signal(2) and raise(3), which are async-signal-safe.
#pragma once

#include <atomic>

namespace cm {

// Exit status of a command stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report ^C).
inline constexpr int kExitInterrupted = 130;

// Installs the stop handler for SIGINT and SIGTERM for its lifetime and restores the previous
// handlers afterwards. message (may be null) must outlive the scope; it is printed on stderr,
// as is, when the first signal arrives.
class StopSignalScope {
 public:
  explicit StopSignalScope(const char* message = nullptr);
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

 private:
  struct Saved;
  Saved* saved_;
  const char* previous_message_;
};

// True once a stop was requested (by a signal or request_stop) since the last reset_stop().
bool stop_requested();
// The signal that requested the stop (SIGINT or SIGTERM), 0 when none or when request_stop()
// was called without one.
int stop_signal();
// The flag itself, for code that takes a `const std::atomic<bool>*` (ExecutionControl::stop).
const std::atomic<bool>& stop_flag();
// Requests a stop as a signal would (tests; a command's own stop conditions).
void request_stop(int signal_number = 0);
// Clears a stop request (tests running several commands in one process).
void reset_stop();
// "SIGINT", "SIGTERM", "signal N", or "a stop request" for 0.
const char* stop_signal_name(int signal_number);

}  // namespace cm
