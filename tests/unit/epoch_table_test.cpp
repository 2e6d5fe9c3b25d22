#include "report/epoch_table.h"

#include <gtest/gtest.h>

namespace genolm::report {
namespace {

TEST(EpochTable, OneAlignedRowPerEpochUnderItsHeader) {
  const EpochTable table({"loss", "accuracy", "mcc"});
  const std::string header = table.header();
  EXPECT_EQ(header, "epoch  stage  train_loss  valid_loss  accuracy  mcc       time");
  const std::string row = table.row({.epoch = 12,
                                     .stage = 4,
                                     .train_loss = 0.31234,
                                     .valid_loss = 0.4,
                                     .valid_metrics = {{"accuracy", 0.91}, {"loss", 0.4}},
                                     .seconds = 75.4,
                                     .best = true});
  EXPECT_EQ(row,
            "12     4      0.3123      0.4000      0.9100    nan       1:15  (best so far: saved)");
  // Columns line up: each value starts where its name does.
  EXPECT_EQ(header.find("valid_loss"), row.find("0.4000"));
  EXPECT_EQ(header.find("mcc"), row.find("nan"));
  EXPECT_EQ(clock_time(3725), "1:02:05");
  EXPECT_EQ(clock_time(0.4), "0:00");
}

}  // namespace
}  // namespace genolm::report
