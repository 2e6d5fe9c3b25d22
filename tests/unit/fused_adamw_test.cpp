#include "train/fused_adamw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <vector>

#include "support/torch_threads.h"

namespace genolm::train {
namespace {

using torch::optim::AdamW;
using torch::optim::AdamWOptions;
using torch::optim::OptimizerParamGroup;

// Two groups with their own learning rate and weight decay, as discriminative fine-tuning makes.
std::vector<OptimizerParamGroup> groups(const std::vector<torch::Tensor>& params) {
  std::vector<OptimizerParamGroup> out;
  out.emplace_back(std::vector<torch::Tensor>{params[0], params[1]},
                   std::make_unique<AdamWOptions>(
                       AdamWOptions(3e-2).betas({0.9, 0.99}).eps(1e-5).weight_decay(0.1)));
  out.emplace_back(std::vector<torch::Tensor>{params[2]},
                   std::make_unique<AdamWOptions>(
                       AdamWOptions(1e-2).betas({0.8, 0.999}).eps(1e-8).weight_decay(0.0)));
  return out;
}

std::vector<torch::Tensor> make_params(torch::Dtype dtype) {
  torch::manual_seed(3);
  const auto options = torch::TensorOptions().dtype(dtype);
  // 70,000 elements split over threads (kElementsPerTask); the bias is a single task.
  return {torch::randn({70, 1000}, options).requires_grad_(),
          torch::randn({17}, options).requires_grad_(),
          torch::randn({5, 3}, options).requires_grad_()};
}

void set_gradients(std::vector<torch::Tensor>& params, int step) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    torch::manual_seed(100 * step + static_cast<int>(i));
    params[i].mutable_grad() = torch::randn_like(params[i]);
  }
}

class FusedAdamWTypes : public ::testing::TestWithParam<torch::Dtype> {
 protected:
  test::ScopedTorchThreads threads_{2};  // the large parameter splits over them
};

TEST_P(FusedAdamWTypes, StepsLikeLibTorchsAdamW) {
  auto fused_params = make_params(GetParam());
  auto reference_params = make_params(GetParam());
  FusedAdamW fused(groups(fused_params));
  AdamW reference(groups(reference_params));
  for (int step = 0; step < 5; ++step) {
    set_gradients(fused_params, step);
    set_gradients(reference_params, step);
    fused.step();
    reference.step();
  }
  const double tolerance = GetParam() == torch::kFloat ? 1e-6 : 1e-13;
  for (std::size_t i = 0; i < fused_params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(fused_params[i], reference_params[i], tolerance, tolerance))
        << "parameter " << i << ": largest difference "
        << (fused_params[i] - reference_params[i]).abs().max().item<double>();
  }
  // The parameters moved: the comparison is not between two untouched copies.
  EXPECT_FALSE(torch::allclose(fused_params[0], make_params(GetParam())[0]));
}

INSTANTIATE_TEST_SUITE_P(FusedAdamW, FusedAdamWTypes,
                         ::testing::Values(torch::kFloat, torch::kDouble), [](const auto& info) {
                           return info.param == torch::kFloat ? "Float32" : "Float64";
                         });

TEST(FusedAdamW, ItsStateLoadsIntoLibTorchsAdamWAndBack) {
  auto params = make_params(torch::kFloat);
  FusedAdamW fused(groups(params));
  set_gradients(params, 0);
  fused.step();
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    fused.save(archive);
    archive.save_to(saved);
  }
  // Continue one copy with the fused step and one with the base class's, from the saved state.
  auto base_params = make_params(torch::kFloat);
  for (std::size_t i = 0; i < params.size(); ++i)
    base_params[i].detach().copy_(params[i].detach());
  AdamW base(groups(base_params));
  {
    torch::serialize::InputArchive archive;
    archive.load_from(saved);
    base.load(archive);
  }
  set_gradients(params, 1);
  set_gradients(base_params, 1);
  fused.step();
  base.step();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i], base_params[i], 1e-6, 1e-6)) << "parameter " << i;
  }
}

TEST(FusedAdamW, AGraphThatSavedAParameterRefusesBackwardAfterTheStep) {
  // As after LibTorch's in-place update: the saved value is stale, and autograd must say so.
  auto weight = torch::randn({8, 8}).requires_grad_();
  FusedAdamW optimizer({weight}, AdamWOptions(1e-1));
  const auto loss = (weight * weight).sum();  // saves `weight` for its backward
  weight.mutable_grad() = torch::ones_like(weight);
  optimizer.step();
  EXPECT_THROW(loss.backward(), c10::Error);
}

TEST(FusedAdamW, TakesTheBaseStepForANonContiguousParameter) {
  torch::manual_seed(5);
  auto strided = torch::randn({4, 6}).t().requires_grad_();  // a leaf that is not contiguous
  auto copy = strided.detach().clone().requires_grad_();
  FusedAdamW fused({strided}, AdamWOptions(1e-1).weight_decay(0.01));
  AdamW reference({copy}, AdamWOptions(1e-1).weight_decay(0.01));
  for (int step = 0; step < 3; ++step) {
    const auto grad = torch::randn({6, 4});
    strided.mutable_grad() = grad.clone();
    copy.mutable_grad() = grad.clone();
    fused.step();
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(strided, copy, 1e-6, 1e-6));
}

}  // namespace
}  // namespace genolm::train
