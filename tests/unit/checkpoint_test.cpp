#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "genolm/error.h"
#include "support/test_files.h"
#include "train/module_file.h"
#include "train/torchscript_archive.h"

namespace genolm::train {
namespace {

struct Trainee {
  torch::nn::Linear model{torch::nn::LinearOptions(4, 3)};
  torch::optim::AdamW optimizer{model->parameters(), torch::optim::AdamWOptions(1e-2)};

  void step() {
    optimizer.zero_grad();
    model->forward(torch::randn({5, 4})).pow(2).sum().backward();
    optimizer.step();
  }
};

// Flips `mask` in byte `offset` of the first copy of `tensor`'s bytes inside `file`: damage in
// tensor data, which no container format notices by itself. False when the bytes are not found.
bool flip_inside(const std::filesystem::path& file, const torch::Tensor& tensor, std::size_t offset,
                 char mask) {
  const auto data = tensor.contiguous();
  std::string bytes = test::read_text(file);
  const auto at = bytes.find(std::string(static_cast<const char*>(data.data_ptr()), data.nbytes()));
  if (at == std::string::npos) return false;
  bytes[at + offset] = static_cast<char>(bytes[at + offset] ^ mask);
  test::write_text(file, bytes);
  return true;
}

// What loading a checkpoint with a flipped byte anywhere says.
std::string damaged_checkpoint(const std::filesystem::path& file) {
  return "checkpoint " + file.string() +
         " is damaged: its bytes do not match the checksum saved with them; delete it to resume " +
         "from an earlier one";
}

TEST(Checkpoints, RoundTripRestoresModelOptimizerStateAndRandomness) {
  test::TempDir dir;
  torch::manual_seed(0);
  Trainee first;
  first.step();
  TrainingState state;
  state.step = 7;
  state.epoch = 1;
  state.position = 1234;
  state.tokens = 99999;
  state.wall_seconds = 12.5;
  state.loader_rng = "12345 678";
  state.carried = {torch::randn({1, 2, 3}), torch::randn({1, 2, 3})};
  state.best = BestEpoch{.epoch = 2, .step = 6, .value = 0.75};
  state.without_improvement = 1;
  state.lowest_valid_loss = 0.4375;
  Checkpoints checkpoints(dir / "checkpoints", 2);
  checkpoints.save(*first.model, first.optimizer, state);
  const auto after_save = torch::rand({3});
  first.step();
  const auto weight_after = first.model->weight.clone();

  Trainee second;  // other weights, fresh optimizer
  const auto latest = checkpoints.latest();
  ASSERT_TRUE(latest.has_value());
  const TrainingState loaded = checkpoints.load(*latest, *second.model, second.optimizer);
  EXPECT_EQ(loaded.step, 7);
  EXPECT_EQ(loaded.position, 1234u);
  EXPECT_EQ(loaded.tokens, 99999u);
  EXPECT_EQ(loaded.loader_rng, "12345 678");
  ASSERT_TRUE(loaded.best.has_value());
  EXPECT_EQ(loaded.best->epoch, 2);
  EXPECT_EQ(loaded.best->value, 0.75);
  EXPECT_EQ(loaded.without_improvement, 1);
  EXPECT_EQ(loaded.lowest_valid_loss, std::optional<double>(0.4375));
  ASSERT_EQ(loaded.carried.size(), 2u);
  EXPECT_TRUE(torch::equal(loaded.carried[1], state.carried[1]));
  EXPECT_TRUE(torch::equal(torch::rand({3}), after_save));  // the generator continues alike
  second.step();
  // Same weights, same Adam moments, same data and randomness: the same next step.
  EXPECT_TRUE(torch::allclose(second.model->weight, weight_after));
}

TEST(Checkpoints, KeepsTheNewestK) {
  test::TempDir dir;
  Trainee setup;
  Checkpoints checkpoints(dir / "c", 2);
  for (std::int64_t step : {10, 20, 30}) {
    TrainingState state;
    state.step = step;
    checkpoints.save(*setup.model, setup.optimizer, state);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "c" / "step-00000010.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir / "c" / "step-00000020.safetensors"));
  EXPECT_EQ(checkpoints.latest()->filename(), "step-00000030.safetensors");
}

// LibTorch's file writer once ended the process through std::terminate on a full disk and left a
// .tmp; now the save is an error naming the file, and the checkpoints already there stay whole.
TEST(Checkpoints, AFullDiskIsAClearErrorAndKeepsTheCheckpointsThere) {
  test::TempDir dir;
  Trainee setup;
  Checkpoints checkpoints(dir / "c", 3);
  TrainingState state;
  state.step = 1;
  checkpoints.save(*setup.model, setup.optimizer, state);
  const std::string first = test::read_text(dir / "c" / "step-00000001.safetensors");
  state.step = 2;
  const auto message = test::error_with_file_size_limit(
      first.size() / 2, [&] { checkpoints.save(*setup.model, setup.optimizer, state); });
  EXPECT_EQ(message.rfind("cannot write " + (dir / "c" / "step-00000002.safetensors").string(), 0),
            0u)
      << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir / "c" / "step-00000002.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "c" / "step-00000002.safetensors.tmp"));
  EXPECT_EQ(test::read_text(dir / "c" / "step-00000001.safetensors"), first);
  EXPECT_EQ(checkpoints.latest()->filename(), "step-00000001.safetensors");

  const auto weights = dir / "encoder.safetensors";
  save_module_file(*setup.model, weights);
  const std::string saved = test::read_text(weights);
  const auto weights_message = test::error_with_file_size_limit(
      saved.size() / 2, [&] { save_module_file(*setup.model, weights); });
  EXPECT_EQ(weights_message.rfind("cannot write " + weights.string(), 0), 0u) << weights_message;
  EXPECT_EQ(test::read_text(weights), saved);
}

// LibTorch's reader checks no checksum: a flipped byte inside a weight once loaded silently.
TEST(ModuleFile, AFlippedByteInTheWeightsIsAnErrorNamingTheFile) {
  test::TempDir dir;
  torch::manual_seed(0);
  torch::nn::Linear saved(torch::nn::LinearOptions(64, 64));
  const auto file = dir / "encoder.safetensors";
  save_module_file(*saved, file);

  torch::nn::Linear loaded(torch::nn::LinearOptions(64, 64));
  load_module_file(*loaded, file);  // intact: loads, and holds the same weights
  EXPECT_TRUE(torch::equal(loaded->weight, saved->weight));

  // The weight matrix is 16 KiB of the file's ~18; flip a bit of a float in the middle of it.
  ASSERT_TRUE(flip_inside(file, saved->weight.flatten().slice(0, 2048, 2049), 1, 0x10));
  EXPECT_EQ(test::error_of([&] { load_module_file(*loaded, file); }),
            file.string() + " is damaged: its bytes do not match the checksum saved with them");
}

TEST(ModuleFile, WeightsThatDoNotFitTheModelAreAnErrorNamingTheTensorAndLeaveItAsItWas) {
  test::TempDir dir;
  torch::manual_seed(0);
  const auto file = dir / "classifier.safetensors";
  save_module_file(*torch::nn::Linear(torch::nn::LinearOptions(4, 3)), file);

  torch::nn::Linear wider(torch::nn::LinearOptions(4, 5));
  const auto before = wider->weight.clone();
  EXPECT_EQ(test::error_of([&] { load_module_file(*wider, file); }),
            file.string() +
                " does not fit this model: tensor 'weight' is F32 [3, 4], the model's " +
                "is F32 [5, 4]");
  EXPECT_TRUE(torch::equal(wider->weight, before));

  torch::nn::Linear no_bias(torch::nn::LinearOptions(4, 3).bias(false));
  EXPECT_EQ(test::error_of([&] { load_module_file(*no_bias, file); }),
            file.string() + " does not fit this model: it holds tensor 'bias', which the model " +
                "has no place for");
  torch::nn::Sequential nested(torch::nn::Linear(4, 3));
  EXPECT_EQ(test::error_of([&] { load_module_file(*nested, file); }),
            file.string() + " does not fit this model: it lacks tensor '0.weight'");
}

// Folders written before weights were safetensors hold TorchScript archives: they still load.
TEST(ModuleFile, AnArchiveOfAnEarlierVersionStillLoads) {
  test::TempDir dir;
  torch::manual_seed(0);
  torch::nn::Linear saved(torch::nn::LinearOptions(4, 3));
  const auto file = dir / "encoder.pt";
  torch::serialize::OutputArchive archive;
  saved->save(archive);
  archive.save_to(file.string());
  ASSERT_TRUE(is_torchscript_archive(file));

  torch::nn::Linear loaded(torch::nn::LinearOptions(4, 3));
  load_module_file(*loaded, file);
  EXPECT_TRUE(torch::equal(loaded->weight, saved->weight));
  EXPECT_TRUE(torch::equal(loaded->bias, saved->bias));
}

TEST(Checkpoints, AFlippedByteInTheModelsWeightsIsAnErrorNamingTheFile) {
  test::TempDir dir;
  Trainee setup;
  Checkpoints checkpoints(dir / "c", 2);
  TrainingState state;
  state.step = 3;
  checkpoints.save(*setup.model, setup.optimizer, state);
  const auto file = *checkpoints.latest();
  ASSERT_TRUE(flip_inside(file, setup.model->weight, 5, 0x04));
  Trainee other;
  EXPECT_EQ(test::error_of([&] { checkpoints.load(file, *other.model, other.optimizer); }),
            damaged_checkpoint(file));
}

TEST(Checkpoints, AFlippedByteInTheOptimizersMomentsIsAnErrorNamingTheFile) {
  test::TempDir dir;
  torch::manual_seed(0);
  Trainee setup;
  setup.step();  // AdamW now holds moments
  Checkpoints checkpoints(dir / "c", 2);
  TrainingState state;
  state.step = 1;
  checkpoints.save(*setup.model, setup.optimizer, state);
  const auto file = *checkpoints.latest();
  auto& moments =
      static_cast<torch::optim::AdamWParamState&>(*setup.optimizer.state().begin()->second);
  ASSERT_TRUE(flip_inside(file, moments.exp_avg_sq(), 2, 0x20));
  Trainee other;
  EXPECT_EQ(test::error_of([&] { checkpoints.load(file, *other.model, other.optimizer); }),
            damaged_checkpoint(file));
}

TEST(Checkpoints, TruncatedOrCorruptFileIsAClearError) {
  test::TempDir dir;
  Trainee setup;
  Checkpoints checkpoints(dir / "c", 3);
  TrainingState state;
  state.step = 5;
  checkpoints.save(*setup.model, setup.optimizer, state);
  const auto file = *checkpoints.latest();
  const std::string bytes = test::read_text(file);
  for (const std::string& broken : {bytes.substr(0, bytes.size() / 2), std::string(100, 'x')}) {
    test::write_text(file, broken);
    const std::string message =
        test::error_of([&] { checkpoints.load(file, *setup.model, setup.optimizer); });
    EXPECT_EQ(
        message.rfind("checkpoint " + file.string() + " is not a valid safetensors file: ", 0), 0u)
        << message;
    EXPECT_NE(message.find("delete it to resume from an earlier one"), std::string::npos)
        << message;
  }
}

// A checkpoint of another model or optimizer is refused before anything is replaced.
TEST(Checkpoints, ACheckpointOfAnotherModelIsAnErrorNamingTheTensor) {
  test::TempDir dir;
  Trainee setup;
  setup.step();
  Checkpoints checkpoints(dir / "c", 2);
  TrainingState state;
  state.step = 4;
  checkpoints.save(*setup.model, setup.optimizer, state);
  torch::nn::Linear other(torch::nn::LinearOptions(4, 2));
  torch::optim::AdamW optimizer(other->parameters(), torch::optim::AdamWOptions(1e-2));
  const auto file = *checkpoints.latest();
  EXPECT_EQ(test::error_of([&] { checkpoints.load(file, *other, optimizer); }),
            file.string() + " does not fit this model: tensor 'model.weight' is F32 [3, 4], the " +
                "model's is F32 [2, 4]");
}

// Run folders of earlier versions checkpointed TorchScript archives; a run resumes from one.
TEST(Checkpoints, ACheckpointOfAnEarlierVersionStillResumes) {
  test::TempDir dir;
  torch::manual_seed(0);
  Trainee first;
  first.step();
  {
    torch::serialize::OutputArchive archive, model, optimizer;
    first.model->save(model);
    archive.write("model", model);
    first.optimizer.save(optimizer);
    archive.write("optimizer", optimizer);
    const auto text = [](const std::string& value) {
      auto tensor = torch::empty({static_cast<std::int64_t>(value.size())}, torch::kUInt8);
      std::copy(value.begin(), value.end(), tensor.data_ptr<std::uint8_t>());
      return tensor;
    };
    archive.write("counters", text(R"({"format_version":1,"step":9,"epoch":0,"position":5,)"
                                   R"("tokens":70,"wall_seconds":1.5,"carried":0,"extra":{}})"));
    archive.write("loader_rng", text("42"));
    archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
    std::filesystem::create_directories(dir / "c");
    archive.save_to((dir / "c" / "step-00000009.pt").string());
  }
  const auto after_save = torch::rand({3});
  first.step();
  Checkpoints checkpoints(dir / "c", 2);
  ASSERT_EQ(checkpoints.latest()->filename(), "step-00000009.pt");
  Trainee second;
  const auto state = checkpoints.load(*checkpoints.latest(), *second.model, second.optimizer);
  EXPECT_EQ(state.step, 9);
  EXPECT_EQ(state.position, 5u);
  EXPECT_EQ(state.loader_rng, "42");
  EXPECT_TRUE(torch::equal(torch::rand({3}), after_save));
  second.step();
  EXPECT_TRUE(torch::allclose(second.model->weight, first.model->weight));
  // The next save is safetensors, and is the newest from then on.
  TrainingState next;
  next.step = 9;
  checkpoints.save(*second.model, second.optimizer, next);
  EXPECT_EQ(checkpoints.latest()->filename(), "step-00000009.safetensors");
}

}  // namespace
}  // namespace genolm::train
