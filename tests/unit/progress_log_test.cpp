#include "util/progress_log.h"

#include <gtest/gtest.h>

#include <cmath>

namespace genolm {
namespace {

TEST(ProgressLog, LinesSayCountShareRateAndTimeLeft) {
  EXPECT_EQ(ProgressLog::line(1204000, 0.43, 120, "records", "reads.fq.gz"),
            "1,204,000 records (43% of reads.fq.gz), 10,033 records/s, ETA 2m39s");
  // A pipe: no share, no ETA.
  EXPECT_EQ(ProgressLog::line(5000, std::nan(""), 10, "variants", ""),
            "5,000 variants, 500 variants/s");
  EXPECT_EQ(ProgressLog::line(10, 0.5, 7200, "x", ""), "10 x (50%), 0 x/s, ETA 2h00m");
}

}  // namespace
}  // namespace genolm
