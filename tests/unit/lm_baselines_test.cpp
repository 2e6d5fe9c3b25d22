#include <gtest/gtest.h>

#include <cmath>

#include "train/lm_baselines.h"

namespace genolm::train {
namespace {

LmBaselines three_mers() {
  LmBaselines baselines;
  baselines.markov = {{"order-3 Markov", 1, 3, 1.3186}, {"order-8 Markov", 6, 8, 1.2525}};
  baselines.uniform = std::log(71.0);
  baselines.stride_prior = std::log(4.0);
  return baselines;
}

TEST(LmBaselines, AnEvaluationSaysWhichMarkovChainsItBeats) {
  const auto baselines = three_mers();
  EXPECT_EQ(verdict(baselines, 1.3304),
            "order-3 Markov 1.3186, order-8 Markov 1.2525: beats neither");
  EXPECT_EQ(verdict(baselines, 1.30),
            "order-3 Markov 1.3186, order-8 Markov 1.2525: beats order-3, not order-8");
  EXPECT_EQ(verdict(baselines, 1.20), "order-3 Markov 1.3186, order-8 Markov 1.2525: beats both");
}

TEST(LmBaselines, WithoutAChainTheStridePriorIsTheFloor) {
  auto baselines = three_mers();
  baselines.markov.clear();
  EXPECT_EQ(verdict(baselines, 1.40), "stride prior 1.3863: does not beat it");
  baselines.stride_prior = NAN;
  EXPECT_EQ(verdict(baselines, 1.40), "uniform 4.2627: beats it");
}

TEST(LmBaselines, RunJsonListsTheChainsAndTheFloors) {
  auto baselines = three_mers();
  baselines.backward = true;
  const auto json = to_json(baselines);
  EXPECT_EQ(json["direction"], "backward");
  ASSERT_EQ(json["markov"].size(), 2u);
  EXPECT_EQ(json["markov"][1]["order"], 8);
  EXPECT_EQ(json["markov"][1]["context_tokens"], 6);
  EXPECT_EQ(json["markov"][1]["order_unit"], "bases");
  EXPECT_DOUBLE_EQ(json["markov"][1]["valid_loss"].get<double>(), 1.2525);
  EXPECT_NEAR(json["stride_prior"].get<double>(), std::log(4.0), 1e-12);
  EXPECT_NE(describe(baselines).find("read backward"), std::string::npos) << describe(baselines);
}

}  // namespace
}  // namespace genolm::train
