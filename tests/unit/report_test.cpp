#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "genolm/error.h"
#include "report/metrics_log.h"
#include "report/report_html.h"
#include "report/svg_plot.h"
#include "support/test_files.h"

namespace genolm::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Well-formed enough for a browser: one <svg> element, and no NaN or inf leaked into coordinates.
void expect_clean_svg(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg;
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  EXPECT_FALSE(contains(svg, "nan")) << svg;
  EXPECT_FALSE(contains(svg, "inf")) << svg;
}

TEST(MetricsLog, AppendThenReadRoundTrip) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    log.append({{"step", 10}, {"split", "train"}, {"loss", 1.5}, {"lr", 0.002}});
    log.append({{"step", 10}, {"split", "valid"}, {"loss", 1.4}, {"perplexity", 4.05}});
  }
  MetricsLog reopened(dir / "metrics.jsonl");  // append mode: the first rows stay
  reopened.append({{"step", 20}, {"split", "train"}, {"loss", 1.25}});
  std::size_t skipped = 99;
  const auto rows = read_metrics(dir / "metrics.jsonl", &skipped);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(rows[0]["step"], 10);
  EXPECT_EQ(rows[1]["split"], "valid");
  EXPECT_DOUBLE_EQ(rows[2]["loss"].get<double>(), 1.25);
}

TEST(MetricsLog, RowsMustBeObjects) {
  test::TempDir dir;
  MetricsLog log(dir / "metrics.jsonl");
  EXPECT_TRUE(contains(test::error_of([&] {
                         log.append(nlohmann::json::array({1, 2}));
                       }),
                       "expected an object"));
}

TEST(MetricsLog, TruncatedLastLineIsSkipped) {
  test::TempDir dir;
  test::write_text(
      dir / "metrics.jsonl",
      "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": 1.9}\n{\"step\": 3, \"lo");
  std::size_t skipped = 0;
  EXPECT_EQ(read_metrics(dir / "metrics.jsonl", &skipped).size(), 2u);
  EXPECT_EQ(skipped, 1u);
  // A resumed run's next row starts on a line of its own instead of gluing onto the torn one.
  MetricsLog(dir / "metrics.jsonl").append({{"step", 3}, {"loss", 1.8}});
  const auto rows = read_metrics(dir / "metrics.jsonl", &skipped);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2]["step"], 3);
  EXPECT_EQ(skipped, 1u);
}

TEST(MetricsLog, MissingFileHasNoRows) {
  test::TempDir dir;
  EXPECT_TRUE(read_metrics(dir / "absent.jsonl").empty());
  EXPECT_NO_THROW(truncate_metrics_after(dir / "absent.jsonl", 5));
}

TEST(MetricsLog, TruncateKeepsStepsUpToN) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    for (int step = 10; step <= 50; step += 10) {
      log.append({{"step", step}, {"split", "train"}, {"loss", 2.0 - step / 100.0}});
      log.append({{"step", step}, {"split", "valid"}, {"loss", 2.1 - step / 100.0}});
    }
  }
  truncate_metrics_after(dir / "metrics.jsonl", 30);
  const auto rows = read_metrics(dir / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& row : rows)
    EXPECT_LE(row["step"].get<int>(), 30);
  EXPECT_FALSE(std::filesystem::exists(dir / "metrics.jsonl.tmp"));
  truncate_metrics_after(dir / "metrics.jsonl", 0);
  EXPECT_TRUE(read_metrics(dir / "metrics.jsonl").empty());
}

TEST(RunReport, ShowsPlotsPriorNameAndEscapedRecipe) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    for (int step = 0; step <= 200; step += 20) {
      log.append({{"step", step},
                  {"split", "train"},
                  {"loss", 4.0 - step / 100.0},
                  {"lr", 0.002},
                  {"tokens_per_s", 2400.5},
                  {"wall_s", step * 0.3}});
      if (step % 100 == 0)
        log.append({{"step", step},
                    {"split", "valid"},
                    {"loss", 3.9 - step / 100.0},
                    {"perplexity", std::exp(3.9 - step / 100.0)},
                    {"accuracy", 0.41}});
    }
    // Rows the report does not plot, or cannot read, are no error.
    log.append({{"step", 200}, {"split", "test"}, {"loss", 2.0}});
    log.append({{"step", "late"}, {"split", 3}, {"loss", "high"}});
  }
  test::write_text(dir / "config.toml", "[train]\nnote = \"loss < prior & more\"\n");
  test::write_text(dir / "run.json", R"({"name": "human-3mer", "status": "finished",
      "stride_prior": 4.1588830833596715, "tokenizer": {"kind": "kmer", "k": 3, "stride": 3},
      "model": {"arch": "awd_lstm", "parameters": 24000000}})");
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<svg"));
  EXPECT_TRUE(contains(html, "stride prior ln(4^s) = 4.159"));
  EXPECT_TRUE(contains(html, "human-3mer"));
  EXPECT_TRUE(contains(html, "loss &lt; prior &amp; more"));
  EXPECT_FALSE(contains(html, "loss < prior"));
  EXPECT_TRUE(contains(html, "awd_lstm"));
  EXPECT_TRUE(contains(html, "24,000,000"));
  EXPECT_TRUE(contains(html, "1.9 at step 200"));  // best valid loss
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(std::filesystem::exists(dir / "report.html.tmp"));
}

TEST(RunReport, EmptyFolderStillRenders) {
  test::TempDir dir;
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<svg"));
  EXPECT_TRUE(contains(html, "metrics.jsonl is missing"));
  EXPECT_TRUE(contains(html, "run.json is missing"));
  EXPECT_TRUE(contains(html, "config.toml is missing"));
}

TEST(RunReport, EmptyAndMalformedInputsAreNoted) {
  test::TempDir dir;
  test::write_text(dir / "metrics.jsonl", "");
  test::write_text(dir / "config.toml", "");
  test::write_text(dir / "run.json", "{\"name\": ");
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "metrics.jsonl has no rows yet"));
  EXPECT_TRUE(contains(html, "config.toml is empty"));
  EXPECT_TRUE(contains(html, "run.json is not valid JSON"));
}

TEST(RunReport, MissingFolderIsAnError) {
  test::TempDir dir;
  EXPECT_TRUE(contains(test::error_of([&] { write_run_report(dir / "absent"); }), "absent"));
}

TEST(SvgPlot, EmptySeriesSaysNoData) {
  const std::string svg = svg_line_plot({.title = "t", .series = {Series{.label = "empty"}}});
  expect_clean_svg(svg);
  EXPECT_TRUE(contains(svg, "no data"));
  expect_clean_svg(svg_line_plot(PlotSpec{}));
}

TEST(SvgPlot, OnePointNaNsAndConstantsDoNotThrow) {
  Series one{.label = "one", .x = {5}, .y = {2}, .markers = true};
  Series gaps{.label = "gaps", .x = {0, 1, 2, kNaN, 4}, .y = {1, kNaN, 3, 4, INFINITY}};
  Series flat{.label = "flat", .x = {0, 1, 2}, .y = {7, 7, 7}};
  for (bool log_y : {false, true}) {
    PlotSpec spec{.title = "t", .series = {one}, .log_y = log_y};
    expect_clean_svg(svg_line_plot(spec));
    spec.series = {gaps, flat};
    expect_clean_svg(svg_line_plot(spec));
    spec.series = {Series{.x = {0, 1}, .y = {0, -1}}};  // nothing positive for a log axis
    spec.references = {{kNaN, "nan"}, {0, "zero"}};
    expect_clean_svg(svg_line_plot(spec));
  }
}

TEST(SvgPlot, ExtremeValuesStillGiveAFewTicks) {
  for (bool log_y : {false, true})
    for (const auto& y :
         {std::vector<double>{1e-310, 1e308}, std::vector<double>{-1e308, 1e308},
          std::vector<double>{1e18, 1e18 + 256}, std::vector<double>{1, 1 + 1e-15}}) {
      const std::string svg =
          svg_line_plot({.series = {Series{.x = {0, 1}, .y = y}}, .log_y = log_y});
      expect_clean_svg(svg);
      EXPECT_LT(svg.size(), 20000u);
    }
}

TEST(SvgPlot, TicksAreNiceAndReferencesLabelled) {
  PlotSpec spec{.title = "loss", .x_label = "step", .y_label = "loss"};
  spec.series = {Series{.label = "train", .x = {0, 973}, .y = {1.13, 4.2}}};
  spec.references = {{4.159, "stride prior"}};
  const std::string svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  for (const char* tick : {">0<", ">200<", ">1000<", ">1<", ">2<", ">5<"})
    EXPECT_TRUE(contains(svg, tick)) << tick;
  EXPECT_TRUE(contains(svg, "stroke-dasharray"));
  EXPECT_TRUE(contains(svg, ">stride prior<"));
}

TEST(SvgPlot, FormatsNumbersAndEscapesMarkup) {
  EXPECT_EQ(format_number(0.002), "0.002");
  EXPECT_EQ(format_number(1.31), "1.31");
  EXPECT_EQ(format_number(2400.7), "2401");
  EXPECT_EQ(format_number(1.5e-5), "1.5e-5");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.1 + 0.2, 6), "0.3");
  EXPECT_EQ(format_number(kNaN), "NaN");
  EXPECT_EQ(escape_markup("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

}  // namespace
}  // namespace genolm::report
