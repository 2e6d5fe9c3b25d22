#pragma once
// ULMFiT's gradual unfreezing and discriminative learning rates as pure functions, so the rule is
// stated (and tested) once: layer groups are numbered from the input side (embedding, layers...,
// head last); stage s of S trains the top s+1 groups, the last stage trains all; the top group
// gets the stage's rate and each group below it the rate of the one above divided by lr_div
// (fastai's 2.6).

#include <cstddef>
#include <vector>

namespace genolm::train {

// How many groups (counted from the top) train in `stage` (0-based) of `stages`; every group when
// `gradual` is false.
std::size_t trainable_groups(std::size_t stage, std::size_t stages, std::size_t groups,
                             bool gradual);

// The learning rate of every group, from the input side up; 0 for a frozen group.
std::vector<double> group_learning_rates(double top_lr, std::size_t groups, std::size_t trainable,
                                         double lr_div);

}  // namespace genolm::train
