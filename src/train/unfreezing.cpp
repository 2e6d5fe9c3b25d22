#include "train/unfreezing.h"

#include <algorithm>
#include <cmath>

namespace genolm::train {

std::size_t trainable_groups(std::size_t stage, std::size_t stages, std::size_t groups,
                             bool gradual) {
  if (!gradual || stage + 1 >= stages) return groups;
  return std::min(groups, stage + 1);
}

std::vector<double> group_learning_rates(double top_lr, std::size_t groups, std::size_t trainable,
                                         double lr_div) {
  std::vector<double> rates(groups, 0.0);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t below_top = groups - 1 - g;
    if (below_top < trainable) rates[g] = top_lr / std::pow(lr_div, static_cast<double>(below_top));
  }
  return rates;
}

}  // namespace genolm::train
