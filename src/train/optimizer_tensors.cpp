#include "train/optimizer_tensors.h"

#include <torch/optim/adamw.h>

#include <memory>
#include <string>

#include "genolm/error.h"
#include "train/optimizer_state_key.h"

namespace genolm::train {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

std::string prefix(std::size_t group, std::size_t index) {
  return "optimizer." + std::to_string(group) + "." + std::to_string(index) + ".";
}

const AdamWOptions& adamw_options(const torch::optim::OptimizerParamGroup& group) {
  const auto* options = dynamic_cast<const AdamWOptions*>(&group.options());
  if (options == nullptr) throw Error("checkpoints hold AdamW's state only");
  return *options;
}

}  // namespace

nlohmann::json add_optimizer_tensors(const torch::optim::Optimizer& optimizer,
                                     NamedTensors& tensors) {
  nlohmann::json groups = nlohmann::json::array();
  const auto& state = optimizer.state();
  const auto& param_groups = optimizer.param_groups();
  for (std::size_t g = 0; g < param_groups.size(); ++g) {
    const auto& options = adamw_options(param_groups[g]);
    groups.push_back({{"lr", options.lr()},
                      {"betas", {std::get<0>(options.betas()), std::get<1>(options.betas())}},
                      {"eps", options.eps()},
                      {"weight_decay", options.weight_decay()},
                      {"amsgrad", options.amsgrad()},
                      {"params", param_groups[g].params().size()}});
    const auto& params = param_groups[g].params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto found = state.find(optimizer_state_key(state, params[i]));
      if (found == state.end()) continue;  // not stepped yet
      const auto* adamw = dynamic_cast<const AdamWParamState*>(found->second.get());
      if (adamw == nullptr) throw Error("checkpoints hold AdamW's state only");
      const auto name = prefix(g, i);
      tensors.emplace_back(name + "step", torch::tensor(adamw->step(), torch::kInt64));
      tensors.emplace_back(name + "exp_avg", adamw->exp_avg());
      tensors.emplace_back(name + "exp_avg_sq", adamw->exp_avg_sq());
      if (adamw->max_exp_avg_sq().defined())
        tensors.emplace_back(name + "max_exp_avg_sq", adamw->max_exp_avg_sq());
    }
  }
  return groups;
}

void load_optimizer_tensors(torch::optim::Optimizer& optimizer, const io::SafetensorsFile& file,
                            const nlohmann::json& groups) {
  auto& param_groups = optimizer.param_groups();
  const std::string unfit = file.origin() + " does not fit this run's optimizer: ";
  if (!groups.is_array() || groups.size() != param_groups.size()) {
    throw Error(unfit + "it has " + (groups.is_array() ? std::to_string(groups.size()) : "no") +
                " parameter groups, the optimizer " + std::to_string(param_groups.size()));
  }
  // Shapes are checked before the state is replaced, so a misfit leaves the optimizer as it was.
  std::vector<std::pair<torch::Tensor, std::unique_ptr<AdamWParamState>>> restored;
  for (std::size_t g = 0; g < param_groups.size(); ++g) {
    adamw_options(param_groups[g]);
    const auto& params = param_groups[g].params();
    if (groups[g].at("params").get<std::size_t>() != params.size()) {
      throw Error(unfit + "group " + std::to_string(g) + " has " + groups[g].at("params").dump() +
                  " parameters, the optimizer's " + std::to_string(params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto name = prefix(g, i);
      const auto* step = file.find(name + "step");
      if (step == nullptr) continue;  // not stepped when saved
      auto moment = [&](const std::string& which, bool required) -> torch::Tensor {
        const auto* stored = file.find(name + which);
        if (stored == nullptr) {
          if (required) throw Error(unfit + "it lacks " + name + which);
          return {};
        }
        auto tensor = to_torch(*stored);
        if (tensor.sizes() != params[i].sizes() || tensor.scalar_type() != params[i].scalar_type())
          throw Error(unfit + name + which + " does not match its parameter's shape or type");
        return tensor.to(params[i].device());
      };
      const auto step_tensor = to_torch(*step);
      if (step_tensor.numel() != 1 || step_tensor.scalar_type() != torch::kInt64)
        throw Error(unfit + name + "step is not one whole number");
      auto state = std::make_unique<AdamWParamState>();
      state->step(step_tensor.item<std::int64_t>());
      state->exp_avg(moment("exp_avg", true));
      state->exp_avg_sq(moment("exp_avg_sq", true));
      if (auto max = moment("max_exp_avg_sq", false); max.defined()) state->max_exp_avg_sq(max);
      restored.emplace_back(params[i], std::move(state));
    }
  }
  for (std::size_t g = 0; g < param_groups.size(); ++g) {
    auto& options = static_cast<AdamWOptions&>(param_groups[g].options());
    const auto& saved = groups[g];
    options.lr(saved.at("lr").get<double>());
    options.betas({saved.at("betas").at(0).get<double>(), saved.at("betas").at(1).get<double>()});
    options.eps(saved.at("eps").get<double>());
    options.weight_decay(saved.at("weight_decay").get<double>());
    options.amsgrad(saved.at("amsgrad").get<bool>());
  }
  auto& state = optimizer.state();
  state.clear();
  for (auto& [param, param_state] : restored)
    state[optimizer_state_key(state, param)] = std::move(param_state);
}

}  // namespace genolm::train
