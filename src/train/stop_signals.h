#pragma once
// SIGINT and SIGTERM ask a training loop to stop after the current step, so it can save a
// checkpoint and leave a run folder that resumes exactly. Handlers are installed for the lifetime
// of a StopOnSignals and the previous ones restored afterwards.

namespace genolm::train {

class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  // The signal that asked to stop, or 0.
  static int requested();
};

}  // namespace genolm::train
