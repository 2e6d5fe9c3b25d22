#pragma once
// Progress of a long pass over input, as log lines: quiet for the first seconds (a small input
// says nothing), then every `interval` one line with the count, the share done, the rate and the
// time left, e.g. "embed: 1,204,000 records (43% of reads.fq.gz), 9,850 records/s, ETA 2m11s".
// Log lines, not a redrawn bar: they read the same in a terminal, under SLURM and in train.log.

#include <chrono>
#include <cstdint>
#include <string>

namespace genolm {

// "3m10s", or "2h05m" past an hour: how long the rest should take.
std::string eta_text(double seconds);

class ProgressLog {
 public:
  // `area`: the logger ("predict"); `what`: the unit counted ("records"); `of`: what the share is
  // of ("reads.fq.gz", or "" for a count alone).
  ProgressLog(std::string area, std::string what, std::string of,
              std::chrono::seconds interval = std::chrono::seconds(10));
  // `done` units so far; `fraction` in [0, 1] of the whole, NaN when unknown (a pipe).
  void update(std::uint64_t done, double fraction);

  // The line update() logs, for tests: the share and ETA only when `fraction` is known.
  static std::string line(std::uint64_t done, double fraction, double seconds,
                          const std::string& what, const std::string& of);

 private:
  std::string area_, what_, of_;
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point start_, next_;
};

}  // namespace genolm
