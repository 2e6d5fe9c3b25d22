#include "train/lr_finder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "genolm/error.h"

namespace genolm::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

LrFindOptions options(std::int64_t steps, double start, double end, double beta = 0.98) {
  LrFindOptions o;
  o.steps = steps;
  o.start_lr = start;
  o.end_lr = end;
  o.beta = beta;
  return o;
}

// A curve with the given smoothed losses at the rates of `o`.
LrCurve curve_of(const LrFindOptions& o, const std::vector<double>& smoothed) {
  LrCurve curve;
  for (std::size_t i = 0; i < smoothed.size(); ++i) {
    curve.lrs.push_back(lr_at(o, static_cast<std::int64_t>(i)));
    curve.losses.push_back(smoothed[i]);
    curve.smoothed.push_back(smoothed[i]);
  }
  return curve;
}

TEST(LrFinder, RatesGrowExponentiallyFromStartToEnd) {
  const auto o = options(5, 1e-4, 1.0);
  const double expected[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  for (std::int64_t i = 0; i < 5; ++i)
    EXPECT_NEAR(lr_at(o, i), expected[i], 1e-12 * expected[i]) << i;

  // The default sweep: 1e-7 to 10 over 100 steps, a constant ratio between steps.
  const LrFindOptions defaults;
  EXPECT_DOUBLE_EQ(lr_at(defaults, 0), 1e-7);
  EXPECT_NEAR(lr_at(defaults, 99), 10.0, 1e-12);
  const double ratio = std::pow(1e8, 1.0 / 99);
  for (std::int64_t i = 1; i < 100; ++i)
    EXPECT_NEAR(lr_at(defaults, i) / lr_at(defaults, i - 1), ratio, 1e-9) << i;
}

TEST(LrFinder, SmoothingIsABiasCorrectedMovingAverage) {
  // beta 0.5 by hand: averages 1, 2.5, 1.75; corrections 1 - 0.5, 1 - 0.25, 1 - 0.125.
  const auto smoothed = smooth_losses({2, 4, 1}, 0.5);
  ASSERT_EQ(smoothed.size(), 3u);
  EXPECT_DOUBLE_EQ(smoothed[0], 2.0);
  EXPECT_DOUBLE_EQ(smoothed[1], 2.5 / 0.75);
  EXPECT_DOUBLE_EQ(smoothed[2], 1.75 / 0.875);

  // fastai's beta: the first value is the first loss itself, the second leans to the first.
  const auto fastai = smooth_losses({3.0, 1.0}, 0.98);
  EXPECT_NEAR(fastai[0], 3.0, 1e-12);
  EXPECT_NEAR(fastai[1], (0.98 * 0.02 * 3.0 + 0.02 * 1.0) / (1 - 0.98 * 0.98), 1e-12);
}

TEST(LrFinder, SweepStopsWhenTheSmoothedLossPassesFourTimesItsMinimum) {
  // No smoothing (beta 0): the smoothed loss is the loss. Minimum 0.5 at step 1; 2.0 is not above
  // 4 x 0.5, 2.5 is: the sweep records it and stops.
  const std::vector<double> losses = {1.0, 0.5, 2.0, 2.5, 0.1, 0.1};
  std::vector<double> asked;
  const auto o = options(6, 1e-3, 1.0, 0.0);
  const LrCurve curve = sweep_learning_rates(o, [&](double lr) {
    asked.push_back(lr);
    return losses[asked.size() - 1];
  });
  ASSERT_EQ(curve.size(), 4u);
  EXPECT_TRUE(curve.diverged);
  EXPECT_EQ(curve.losses, std::vector<double>(losses.begin(), losses.begin() + 4));
  EXPECT_EQ(curve.lrs, asked);
  for (std::size_t i = 0; i < asked.size(); ++i)
    EXPECT_DOUBLE_EQ(asked[i], lr_at(o, static_cast<std::int64_t>(i)));
}

TEST(LrFinder, SweepTakesEveryStepUnlessTheLossDivergesOrIsNotFinite) {
  const auto o = options(10, 1e-5, 1e-1);
  const LrCurve flat = sweep_learning_rates(o, [](double) { return 1.0; });
  EXPECT_EQ(flat.size(), 10u);
  EXPECT_FALSE(flat.diverged);

  int calls = 0;
  const LrCurve broken = sweep_learning_rates(o, [&](double) { return ++calls == 3 ? kNaN : 1.0; });
  EXPECT_EQ(broken.size(), 3u);
  EXPECT_TRUE(broken.diverged);
}

TEST(LrFinder, BadOptionsAreErrorsNamingTheFlag) {
  EXPECT_THROW(sweep_learning_rates(options(1, 1e-7, 10), [](double) { return 1.0; }), Error);
  EXPECT_THROW(check_lr_find_options(options(100, 0, 10)), Error);
  EXPECT_THROW(check_lr_find_options(options(100, 1e-2, 1e-3)), Error);
  try {
    check_lr_find_options(options(100, 1e-2, 1e-3));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--end-lr"), std::string::npos) << e.what();
  }
}

TEST(LrFinder, SuggestionsMatchFastaisRulesOnAHandMadeCurve) {
  // 20 steps from 1e-6 to 1: the rules read points 2 (20 / 10) to 14 (the last 5 left out).
  const auto o = options(20, 1e-6, 1.0);
  const LrCurve curve = curve_of(o, {5,   5,   5,   4.9, 4.0, 3.6, 3.2, 3.0, 2.9, 2.85,  //
                                     2.8, 2.9, 3.5, 4.5, 6,   9,   12,  20,  40,  80});
  const auto s = suggest_learning_rates(curve, 20);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 2u);
  EXPECT_EQ(s->last, 15u);
  // The longest valley: 5 (point 2) down to 2.8 (point 10), 9 points; its end is point 8 of the
  // window, start = 8 - 9 = -1, the pick -1 + floor(9 / 3) + floor(9 / 6) = 3: point 5.
  EXPECT_EQ(s->valley.step, 5u);
  EXPECT_DOUBLE_EQ(s->valley.lr, curve.lrs[5]);
  // The rates are evenly spaced in ln lr, so the steepest segment is the largest drop: 4.9 -> 4.0.
  EXPECT_EQ(s->steep.step, 3u);
  EXPECT_DOUBLE_EQ(s->steep.lr, curve.lrs[3]);
  // The lowest loss, 2.8 at point 10 (not the 80 beyond the window's end): its rate / 10.
  EXPECT_EQ(s->minimum.step, 10u);
  EXPECT_DOUBLE_EQ(s->minimum.lr, curve.lrs[10] / 10);
}

TEST(LrFinder, ShortCurvesAreReadWholeUpToTheirFirstLossThatIsNotFinite) {
  const auto o = options(100, 1e-4, 1.0);
  // 4 points of 100 asked: no window is left once 10 and 5 are cut, so the whole curve counts, up
  // to its NaN. Valley 3 > 2 > 1: end 2, start -1, pick -1 + 1 + 0 = 0.
  const LrCurve curve = curve_of(o, {3, 2, 1, kNaN});
  const auto s = suggest_learning_rates(curve, 100);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 0u);
  EXPECT_EQ(s->last, 3u);
  EXPECT_EQ(s->valley.step, 0u);
  EXPECT_EQ(s->steep.step, 0u);  // equal slopes: the first
  EXPECT_EQ(s->minimum.step, 2u);

  // A rising curve has no valley: the first point (fastai's index -1, clamped).
  EXPECT_EQ(suggest_learning_rates(curve_of(o, {1, 2, 3}), 100)->valley.step, 0u);
  // Fewer than 2 finite points: nothing to suggest.
  EXPECT_FALSE(suggest_learning_rates(curve_of(o, {kNaN, 1, 2}), 100).has_value());
  EXPECT_FALSE(suggest_learning_rates(curve_of(o, {1}), 100).has_value());
}

}  // namespace
}  // namespace genolm::train
