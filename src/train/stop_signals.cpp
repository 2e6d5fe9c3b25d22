#include "train/stop_signals.h"

#include <atomic>
#include <csignal>

namespace genolm::train {
namespace {

std::atomic<int> stop_signal{0};
struct sigaction old_int {};
struct sigaction old_term {};

void request_stop(int signal) {
  stop_signal.store(signal);
}

}  // namespace

StopOnSignals::StopOnSignals() {
  stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

int StopOnSignals::requested() {
  return stop_signal.load();
}

}  // namespace genolm::train
