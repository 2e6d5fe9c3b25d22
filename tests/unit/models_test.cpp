// The model pieces: gradient checks in float64 on tiny sizes, and the dropouts behaving as
// fastai's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config/recipe.h"
#include "models/architecture.h"
#include "models/awd_lstm.h"
#include "models/drop_connect.h"
#include "models/fused_lstm.h"
#include "models/language_model.h"
#include "models/model_factory.h"
#include "models/transformer.h"
#include "support/test_files.h"
#include "support/torch_threads.h"

namespace genolm::models {
namespace {

AwdLstmOptions tiny_lstm(double drop) {
  AwdLstmOptions options;
  options.vocab_size = 11;
  options.emb_size = 4;
  options.hidden_size = 5;
  options.layers = 2;
  return options.scaled(drop);
}

TransformerOptions tiny_transformer(const std::string& positions) {
  TransformerOptions options;
  options.vocab_size = 11;
  options.d_model = 8;
  options.heads = 2;
  options.ff_size = 12;
  options.layers = 2;
  options.context = 16;
  options.dropout = 0;
  options.positions = positions;
  return options;
}

// Central differences against autograd for a sample of every parameter's entries, in float64.
void expect_gradients_match(LanguageModel& model, const torch::Tensor& ids,
                            const torch::Tensor& targets, const std::vector<torch::Tensor>& state) {
  model.to(torch::kDouble);
  model.train();  // training mode with every dropout at zero: AR and TAR are part of the loss
  auto loss_at = [&] {
    model.encoder()->set_state(state);
    return model.loss(ids, targets).total;
  };
  model.zero_grad();
  loss_at().backward();
  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  for (auto& parameter : model.parameters()) {
    const auto flat = parameter.view({-1});
    const auto grad = parameter.grad().view({-1});
    for (std::int64_t i = 0; i < flat.numel(); i += std::max<std::int64_t>(1, flat.numel() / 7)) {
      const double saved = flat[i].item<double>();
      flat[i] = saved + eps;
      const double up = loss_at().item<double>();
      flat[i] = saved - eps;
      const double down = loss_at().item<double>();
      flat[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-6 + 1e-4 * std::abs(numeric));
    }
  }
}

// On the CPU in fp32 and fp64 the AWD-LSTM runs fused_lstm_layer; at::lstm (bf16, GPU) is checked
// against it in FusedLstm.MatchesAtenLstmInValueAndGradient.
TEST(AwdLstm, GradientsMatchFiniteDifferencesInFloat64) {
  torch::manual_seed(0);
  auto encoder = std::make_shared<AwdLstm>(tiny_lstm(0.0));
  auto model = make_language_model(encoder, encoder->describe(), 2.0, 1.0);
  // Id 0 is padding, whose embedding row gets no gradient by design: keep it out of the inputs.
  const auto ids = torch::randint(1, 11, {3, 6}, torch::kLong);
  const auto targets = torch::randint(0, 11, {3, 6}, torch::kLong);
  // A carried state from an earlier batch, so the state path is checked too.
  model->to(torch::kDouble);
  model->loss(ids, targets);
  const auto state = encoder->state();
  expect_gradients_match(*model, ids, targets, state);
}

struct LstmShape {
  std::int64_t batch, hidden;
};

// A few units run the gate loops as one task; 16 x 512 splits them over two threads
// (rows_per_task).
class FusedLstmShapes : public ::testing::TestWithParam<LstmShape> {
 protected:
  test::ScopedTorchThreads threads_{2};
};

TEST_P(FusedLstmShapes, MatchesAtenLstmInValueAndGradient) {
  // The fast layer against the plain one (ATen's at::lstm), in float64.
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  const auto [batch, hidden] = GetParam();
  const std::int64_t steps = 5, in = 4;
  // Weights scaled like PyTorch's initialisation, so the gates are not all saturated.
  const double scale = 1.0 / std::sqrt(static_cast<double>(hidden));
  std::vector<torch::Tensor> leaves = {torch::randn({steps, batch, in}, options),  // time-major
                                       torch::randn({batch, hidden}, options),
                                       torch::randn({batch, hidden}, options),
                                       torch::randn({4 * hidden, in}, options) * scale,
                                       torch::randn({4 * hidden, hidden}, options) * scale,
                                       torch::randn({4 * hidden}, options) * scale,
                                       torch::randn({4 * hidden}, options) * scale};
  for (auto& leaf : leaves)
    leaf.requires_grad_(true);
  const auto weights = torch::randn({steps, batch, hidden}, options);
  auto objective = [&](const torch::Tensor& out, const torch::Tensor& h, const torch::Tensor& c) {
    return (out * weights).sum() + h.pow(2).sum() + (c * 0.5).sum();
  };

  auto [out, h, c] =
      fused_lstm_layer(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6]);
  const auto fused = torch::autograd::grad({objective(out, h, c)}, leaves);
  auto [ref_out, ref_h, ref_c] =
      at::lstm(leaves[0], {leaves[1].unsqueeze(0), leaves[2].unsqueeze(0)},
               {leaves[3], leaves[4], leaves[5], leaves[6]}, true, 1, 0.0, true, false, false);
  const auto reference =
      torch::autograd::grad({objective(ref_out, ref_h.squeeze(0), ref_c.squeeze(0))}, leaves);
  EXPECT_TRUE(torch::allclose(out, ref_out, 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(h, ref_h.squeeze(0), 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(c, ref_c.squeeze(0), 1e-10, 1e-12));
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_TRUE(torch::allclose(fused[i], reference[i], 1e-9, 1e-11)) << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(FusedLstm, FusedLstmShapes,
                         ::testing::Values(LstmShape{3, 6}, LstmShape{16, 512}),
                         [](const auto& info) {
                           return "Batch" + std::to_string(info.param.batch) + "Hidden" +
                                  std::to_string(info.param.hidden);
                         });

TEST(Transformer, GradientsMatchFiniteDifferencesInFloat64) {
  for (const std::string positions : {"rotary", "learned"}) {
    torch::manual_seed(1);
    auto encoder = std::make_shared<Transformer>(tiny_transformer(positions));
    auto model = make_language_model(encoder, encoder->describe(), 0, 0);
    const auto ids = torch::randint(0, 11, {2, 7}, torch::kLong);
    const auto targets = torch::randint(0, 11, {2, 7}, torch::kLong);
    expect_gradients_match(*model, ids, targets, {});
  }
}

TEST(Transformer, IsCausal) {
  torch::manual_seed(2);
  Transformer encoder(tiny_transformer("rotary"));
  encoder.eval();
  auto ids = torch::randint(0, 11, {1, 10}, torch::kLong);
  const auto before = encoder.forward(ids);
  ids.index_put_({0, 9}, (ids[0][9].item<std::int64_t>() + 1) % 11);
  const auto after = encoder.forward(ids);
  EXPECT_TRUE(torch::allclose(before.slice(1, 0, 9), after.slice(1, 0, 9)));
  EXPECT_FALSE(torch::allclose(before.slice(1, 9), after.slice(1, 9)));
}

TEST(Dropouts, EmbeddingDropoutRemovesWholeRows) {
  torch::manual_seed(3);
  const auto weight = torch::randn({200, 6}) + 10;  // no entry is zero by chance
  const auto dropped = embedding_dropout(weight, 0.5, true);
  int zero_rows = 0;
  for (int row = 0; row < 200; ++row) {
    const auto zeros = (dropped[row] == 0).sum().item<int>();
    EXPECT_TRUE(zeros == 0 || zeros == 6) << "row " << row << " is partly dropped";
    if (zeros == 6) {
      ++zero_rows;
    } else {
      EXPECT_TRUE(torch::allclose(dropped[row], weight[row] * 2));
    }
  }
  EXPECT_GT(zero_rows, 60);
  EXPECT_LT(zero_rows, 140);
  EXPECT_TRUE(torch::equal(embedding_dropout(weight, 0.5, false), weight));
}

TEST(Dropouts, LockedDropoutHasOneMaskPerSequence) {
  torch::manual_seed(4);
  const auto x = torch::ones({4, 9, 16});
  const auto dropped = locked_dropout(x, 0.5, true);
  // Every (sequence, feature) is kept or dropped for all time steps alike.
  EXPECT_TRUE(torch::equal(dropped, dropped.select(1, 0).unsqueeze(1).expand_as(dropped)));
  const double kept = (dropped.select(1, 0) != 0).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(kept, 0.3);
  EXPECT_LT(kept, 0.7);
  EXPECT_TRUE(torch::equal(locked_dropout(x, 0.5, false), x));
}

TEST(Dropouts, DropConnectKeepsEachWeightWithProbabilityOneMinusP) {
  torch::manual_seed(8);
  const auto weight = torch::rand({2048, 512}) + 1;  // no entry is zero by chance
  const auto dropped = drop_connect(weight, 0.2);
  const auto kept = dropped != 0;
  // 1 M draws: the kept share is within a few thousandths of 0.8 (its standard error is 0.0004).
  EXPECT_NEAR(kept.to(torch::kDouble).mean().item<double>(), 0.8, 0.003);
  EXPECT_TRUE(torch::allclose(dropped.masked_select(kept), weight.masked_select(kept) / 0.8));
  // Each row and column has its own mask bits: no row is kept or dropped as a whole.
  const auto row_share = kept.to(torch::kDouble).mean(1);
  EXPECT_GT(row_share.min().item<double>(), 0.7);
  EXPECT_LT(row_share.max().item<double>(), 0.9);
  EXPECT_TRUE(torch::equal(drop_connect(weight, 0.0), weight));
  EXPECT_EQ(drop_connect(weight, 1.0).abs().sum().item<double>(), 0.0);
  EXPECT_THROW(drop_connect(weight, 1.5), c10::Error);
}

TEST(Dropouts, DropConnectDependsOnTheSeedAloneNotOnThreads) {
  const auto weight = torch::ones({300, 100});
  auto masked = [&](int threads, std::uint64_t seed) {
    test::ScopedTorchThreads scoped(threads);
    torch::manual_seed(seed);
    return drop_connect(weight, 0.5);
  };
  const auto one_thread = masked(1, 9);
  EXPECT_TRUE(torch::equal(one_thread, masked(2, 9)));
  EXPECT_FALSE(torch::equal(one_thread, masked(1, 10)));
}

TEST(Dropouts, WeightDropGivesZeroGradientWhereDropped) {
  auto zero_share = [](double weight_p) {
    torch::manual_seed(5);
    AwdLstmOptions options = tiny_lstm(0.0);
    options.hidden_size = 32;
    options.weight_p = weight_p;
    AwdLstm encoder(options);
    encoder.train();
    encoder.forward(torch::randint(0, 11, {4, 12}, torch::kLong)).pow(2).sum().backward();
    const auto grad = encoder.layer_groups()[1][1].grad();  // layer 0's raw hidden-to-hidden weight
    return (grad == 0).to(torch::kFloat).mean().item<double>();
  };
  EXPECT_LT(zero_share(0.0), 0.01);
  EXPECT_NEAR(zero_share(0.5), 0.5, 0.1);
}

TEST(AwdLstm, CarriesStateAcrossBatchesUntilReset) {
  torch::manual_seed(6);
  AwdLstm encoder(tiny_lstm(0.0));
  encoder.eval();
  const auto ids = torch::randint(0, 11, {2, 5}, torch::kLong);
  const auto first = encoder.forward(ids);
  const auto carried = encoder.forward(ids);
  EXPECT_FALSE(torch::allclose(first, carried));
  encoder.reset();
  EXPECT_TRUE(torch::allclose(first, encoder.forward(ids)));
  EXPECT_EQ(encoder.state().size(), 4u);
}

TEST(LanguageModel, DecoderIsTiedToTheEmbedding) {
  auto encoder = std::make_shared<AwdLstm>(tiny_lstm(1.0));
  auto model = make_language_model(encoder, encoder->describe(), 2.0, 1.0);
  std::int64_t encoder_count = 0;
  for (const auto& p : encoder->parameters())
    encoder_count += p.numel();
  std::int64_t model_count = 0;
  for (const auto& p : model->parameters())
    model_count += p.numel();
  EXPECT_EQ(model_count, encoder_count + 11);  // only the decoder's own bias is new
  EXPECT_EQ(encoder->describe()["output_p"], 0.1);
  EXPECT_EQ(encoder->describe()["weight_p"], 0.2);
}

TEST(ModelFactory, RebuildsFromItsDescription) {
  const auto lstm = make_encoder(AwdLstm(tiny_lstm(0.5)).describe());
  EXPECT_EQ(lstm->describe(), AwdLstm(tiny_lstm(0.5)).describe());
  const auto transformer = make_encoder(Transformer(tiny_transformer("learned")).describe());
  EXPECT_EQ(transformer->describe()["positions"], "learned");
  EXPECT_THROW(make_encoder({{"arch", "gru"}}), std::exception);
}

// model.json is read from disk: sizes that would crash (0 layers, 0 heads) or allocate without
// bound are errors naming the field and the range, before anything is built.
TEST(ModelFactory, DescriptionSizesAreRangeCheckedBeforeAnythingIsBuilt) {
  const auto lstm = AwdLstm(tiny_lstm(0.5)).describe();
  const auto transformer = Transformer(tiny_transformer("learned")).describe();
  const auto error_with = [](nlohmann::json description, const char* key,
                             const nlohmann::json& value) {
    description[key] = value;
    return test::error_of([&] { make_encoder(description); });
  };
  EXPECT_EQ(error_with(lstm, "layers", 0),
            "model description's \"layers\" is 0 (expected 1 to 256)");
  EXPECT_EQ(error_with(lstm, "vocab_size", std::int64_t{1} << 40),
            "model description's \"vocab_size\" is 1099511627776 (expected 1 to 1048576)");
  EXPECT_EQ(error_with(lstm, "hidden_p", 1.5),
            "model description's \"hidden_p\" is 1.500000 (expected a dropout probability from 0 "
            "to below 1)");
  EXPECT_EQ(error_with(transformer, "heads", 0),
            "model description's \"heads\" is 0 (expected 1 to " +
                transformer["emb_size"].dump() + ")");
  EXPECT_NE(error_with(transformer, "heads", 3).find("is not a multiple of its \"heads\" 3"),
            std::string::npos);
  auto huge = lstm;
  huge["vocab_size"] = 1 << 20;
  EXPECT_EQ(error_with(huge, "emb_size", 4096),
            "model description's embedding of 1048576 tokens x 4096 is larger than any genolm "
            "makes (1073741824 values)");
}

}  // namespace
}  // namespace genolm::models

namespace genolm::models {
namespace {

TEST(ArchitectureTable, AnUnknownArchitectureIsAnErrorNamingTheKnownOnes) {
  const auto message = test::error_of([] { make_encoder({{"arch", "mamba"}}); });
  EXPECT_NE(message.find("unknown model architecture 'mamba'"), std::string::npos) << message;
  EXPECT_NE(message.find("awd_lstm, transformer"), std::string::npos) << message;
}

TEST(ArchitectureTable, TheRecipeSchemaOffersExactlyTheRegisteredArchitectures) {
  std::vector<std::string> registered, offered;
  for (const auto& entry : architectures())
    registered.emplace_back(entry.name);
  for (const auto choice : config::find_key("model.arch")->choices)
    offered.emplace_back(choice);
  EXPECT_EQ(registered, offered);
}

TEST(ArchitectureTable, EncodersDescribeHowTheyAreRead) {
  const auto lstm = make_encoder(AwdLstm(tiny_lstm(1.0)).describe());
  EXPECT_TRUE(lstm->carries_state());
  EXPECT_EQ(lstm->bf16_mode(), Bf16Mode::explicit_cast);
  EXPECT_EQ(lstm->window(70), 70);
  const auto transformer = make_encoder(Transformer(tiny_transformer("rotary")).describe());
  EXPECT_FALSE(transformer->carries_state());
  EXPECT_EQ(transformer->bf16_mode(), Bf16Mode::autocast);
  EXPECT_EQ(transformer->window(70), 16);  // its context, whatever the stateful chunk
}

TEST(ArchitectureTable, EveryEntryRebuildsTheEncoderItDescribes) {
  config::Recipe recipe;
  recipe.set("model.emb_size=8");
  recipe.set("model.hidden_size=12");
  recipe.set("model.layers=2");
  recipe.set("model.heads=2");
  recipe.set("model.context=16");
  for (const auto& entry : architectures()) {
    const auto description = entry.describe(recipe, 11);
    EXPECT_EQ(description.at("arch"), std::string(entry.name));
    EXPECT_EQ(entry.build(description)->describe(), description) << entry.name;
  }
}

}  // namespace
}  // namespace genolm::models
