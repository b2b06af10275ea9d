#include "engine/signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace cm {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
std::atomic<const char*> g_message{nullptr};
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<const char*>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig);  // the first signal is the one reported
  if (g_stop.exchange(true)) {                  // the second signal: stop at once
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  if (const char* msg = g_message.load()) {
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, std::strlen(msg));
  }
}

}  // namespace

struct StopSignalScope::Saved {
  struct sigaction old_int {};
  struct sigaction old_term {};
};

StopSignalScope::StopSignalScope(const char* message)
    : saved_(new Saved), previous_message_(g_message.exchange(message)) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &saved_->old_int);
  ::sigaction(SIGTERM, &sa, &saved_->old_term);
}

StopSignalScope::~StopSignalScope() {
  ::sigaction(SIGINT, &saved_->old_int, nullptr);
  ::sigaction(SIGTERM, &saved_->old_term, nullptr);
  g_message.store(previous_message_);
  delete saved_;
}

bool stop_requested() {
  return g_stop.load();
}

int stop_signal() {
  return g_signal.load();
}

const std::atomic<bool>& stop_flag() {
  return g_stop;
}

void request_stop(int signal_number) {
  g_signal.store(signal_number);
  g_stop.store(true);
}

void reset_stop() {
  g_stop.store(false);
  g_signal.store(0);
}

const char* stop_signal_name(int signal_number) {
  switch (signal_number) {
    case 0:
      return "a stop request";
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace cm
