#include "report/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "report/metrics_log.h"
#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "run/run_layout.h"

namespace genolm::report {

using nlohmann::json;

namespace {

// 24123456 -> "24,123,456": parameter counts are read at a glance (four digits stay as they are).
std::string grouped(const std::string& digits) {
  const std::size_t first = digits[0] == '-' ? 1 : 0;
  if (digits.size() - first <= 4) return digits;
  // Built forwards (not by inserting), which also keeps GCC 12's -Wrestrict false alarm away.
  std::string out(digits, 0, first);
  for (std::size_t i = first; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

// The helpers that finetune_report.cpp shares (report_parts.h).

std::optional<std::string> read_whole(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

double number(const json& row, const char* key) {
  const auto found = row.find(key);
  return found != row.end() && found->is_number() ? found->get<double>() : kNaN;
}

std::string text_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return grouped(value.dump());
  if (value.is_null()) return kNone;
  if (value.is_number_float()) return format_number(value.get<double>(), 6);
  // Objects and lists as words ("k=3, stride=1"), not raw JSON that runs off the page.
  std::string text;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      text += (text.empty() ? "" : ", ") + key + "=" + text_of(item);
    return text.empty() ? kNone : text;
  }
  if (value.is_array()) {
    for (const auto& item : value)
      text += (text.empty() ? "" : ", ") + text_of(item);
    return "[" + text + "]";
  }
  return value.dump();
}

std::vector<const json*> split_rows(const std::vector<json>& rows, const std::string& split) {
  std::vector<const json*> out;
  for (const auto& row : rows) {
    const auto found = row.find("split");  // not value(): a row of the wrong type must not throw
    if (found != row.end() && *found == split && std::isfinite(number(row, "step")))
      out.push_back(&row);
  }
  std::stable_sort(out.begin(), out.end(), [](const json* a, const json* b) {
    return number(*a, "step") < number(*b, "step");
  });
  return out;
}

Series column(const std::vector<const json*>& rows, const char* key, std::string label,
              bool markers, std::string color) {
  Series series{std::move(label), {}, {}, markers, std::move(color)};
  for (const json* row : rows) {
    series.x.push_back(number(*row, "step"));
    series.y.push_back(number(*row, key));
  }
  return series;
}

std::string table(const TableRows& rows) {
  std::string html = "<table>\n";
  for (const auto& [key, value] : rows)
    html += "<tr><th>" + escape_markup(key) + "</th><td>" + escape_markup(value) + "</td></tr>\n";
  return html + "</table>\n";
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts)
    out += (out.empty() ? "" : ", ") + part;
  return out.empty() ? kNone : out;
}

namespace {

// What the report is made of; each reader adds a note instead of failing on a missing input.
struct RunInputs {
  json run = json::object();
  std::string config;
  std::vector<json> rows;
  std::vector<std::string> notes;
};

RunInputs read_inputs(const std::filesystem::path& run_dir) {
  RunInputs in;
  if (auto text = read_whole(run::RunLayout(run_dir).run_json()); !text) {
    in.notes.push_back("run.json is missing: name, status, tokenizer and model are unknown.");
  } else if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
    in.notes.push_back("run.json is empty.");
  } else {
    try {
      json run = json::parse(*text);
      if (run.is_object())
        in.run = std::move(run);
      else
        in.notes.push_back(std::string("run.json holds a JSON ") + run.type_name() +
                           " (expected an object); it is ignored.");
    } catch (const json::parse_error& e) {
      in.notes.push_back(std::string("run.json is not valid JSON (") + e.what() + ").");
    }
  }
  if (auto text = read_whole(run::RunLayout(run_dir).config()); !text)
    in.notes.push_back("config.toml is missing: the recipe is unknown.");
  else if (text->empty())
    in.notes.push_back("config.toml is empty.");
  else
    in.config = std::move(*text);
  std::size_t skipped = 0;
  if (!std::filesystem::exists(run::RunLayout(run_dir).metrics()))
    in.notes.push_back("metrics.jsonl is missing: there are no curves to plot.");
  else if (in.rows = read_metrics(run::RunLayout(run_dir).metrics(), &skipped); in.rows.empty())
    in.notes.push_back("metrics.jsonl has no rows yet.");
  if (skipped > 0)
    in.notes.push_back(std::to_string(skipped) +
                       " malformed line(s) of metrics.jsonl were skipped (a run killed while "
                       "writing leaves a torn last line).");
  return in;
}

std::string run_field(const json& run, const char* key) {
  return run.contains(key) ? text_of(run.at(key)) : std::string(kNone);
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds)) return kNone;
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[48];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld (h:mm:ss)", total / 3600, total / 60 % 60,
                total % 60);
  return text;
}

std::string object_table(const json& run, const char* key) {
  const auto found = run.find(key);
  if (found == run.end() || !found->is_object() || found->empty())
    return "<p class=\"note\">Not recorded in run.json.</p>\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [name, value] : found->items())
    rows.emplace_back(name, text_of(value));
  return table(rows);
}

// The Markov chains fitted on the corpus's train split (run.json's "baselines"): the reference a
// language model must beat, each with its valid loss.
struct MarkovBaseline {
  std::string label;  // "Markov chain on 3 bases of context"
  double loss = kNaN;
};

std::vector<MarkovBaseline> markov_baselines(const json& run) {
  std::vector<MarkovBaseline> chains;
  const auto baselines = run.find("baselines");
  if (baselines == run.end() || !baselines->is_object()) return chains;
  const auto markov = baselines->find("markov");
  if (markov == baselines->end() || !markov->is_array()) return chains;
  for (const auto& chain : *markov) {
    if (!chain.is_object()) continue;
    const double loss = number(chain, "valid_loss");
    if (!std::isfinite(loss)) continue;
    chains.push_back({"Markov chain on " + text_of(chain.value("order", json())) + " " +
                          text_of(chain.value("order_unit", json("tokens"))) + " of context",
                      loss});
  }
  return chains;
}

// Says plainly whether the model's last valid loss beats the best Markov chain.
std::string markov_verdict(const std::vector<MarkovBaseline>& chains, double last_valid) {
  if (chains.empty()) return kNone;
  const auto best = std::min_element(chains.begin(), chains.end(),
                                     [](const auto& a, const auto& b) { return a.loss < b.loss; });
  std::string text = best->label + ": " + format_number(best->loss) + " nats/token; ";
  if (!std::isfinite(last_valid)) return text + "the model has no valid loss yet";
  return text + (last_valid < best->loss
                     ? "the model beats it by " + format_number(best->loss - last_valid)
                     : "the model does NOT beat it (" + format_number(last_valid - best->loss) +
                           " nats/token worse)");
}

std::string summary(const RunInputs& in, const std::string& name,
                    const std::vector<const json*>& train, const std::vector<const json*>& valid,
                    double prior) {
  double last_step = kNaN, wall = kNaN, tokens = 0, best = kNaN, best_step = kNaN;
  int timed = 0;
  for (const auto& row : in.rows) {
    last_step = std::fmax(last_step, number(row, "step"));  // fmax ignores NaN
    wall = std::fmax(wall, number(row, "wall_s"));
  }
  for (const json* row : train)
    if (const double t = number(*row, "tokens_per_s"); std::isfinite(t)) tokens += t, ++timed;
  for (const json* row : valid)
    if (const double loss = number(*row, "loss"); std::isfinite(loss) && !(loss >= best))
      best = loss, best_step = number(*row, "step");
  const auto value = [](double v) { return std::isfinite(v) ? format_number(v) : kNone; };
  const auto last = [&](const std::vector<const json*>& rows, const char* key) {
    return rows.empty() ? kNone : value(number(*rows.back(), key));
  };
  return table({
      {"Run", name},
      {"Status", run_field(in.run, "status")},
      {"Started", run_field(in.run, "started")},
      {"Device", run_field(in.run, "device")},
      {"Last step", value(last_step)},
      {"Last train loss", last(train, "loss")},
      {"Best valid loss",
       std::isfinite(best) ? value(best) + " at step " + value(best_step) : kNone},
      {"Last valid perplexity", last(valid, "perplexity")},
      {"Last valid accuracy", last(valid, "accuracy")},
      {"Markov-chain baseline",
       markov_verdict(markov_baselines(in.run),
                      valid.empty() ? kNaN : number(*valid.back(), "loss"))},
      {"Stride prior ln(4^s)", std::isfinite(prior)
                                   ? value(prior) + " (perplexity " + value(std::exp(prior)) + ")"
                                   : kNone},
      {"Mean tokens/s", timed > 0 ? value(tokens / timed) : kNone},
      {"Wall time", duration(wall)},
  });
}

// Fine-tuning keeps the rows every run has (status, start, device, wall time) around its own.
std::string finetune_summary(const RunInputs& in, const std::string& name,
                             const FinetuneParts& parts) {
  double wall = kNaN;
  for (const auto& row : in.rows)
    wall = std::fmax(wall, number(row, "wall_s"));  // fmax ignores NaN
  TableRows rows{{"Run", name}};
  rows.insert(rows.end(), parts.summary_head.begin(), parts.summary_head.end());
  for (const auto& [label, key] :
       {std::pair{"Status", "status"}, {"Started", "started"}, {"Device", "device"}})
    rows.emplace_back(label, run_field(in.run, key));
  rows.insert(rows.end(), parts.summary_tail.begin(), parts.summary_tail.end());
  rows.emplace_back("Wall time", duration(wall));
  return table(rows);
}

std::string plots(const json& run, const std::vector<const json*>& train,
                  const std::vector<const json*>& valid, double prior,
                  const std::vector<MarkovBaseline>& chains, std::vector<std::string>& notes) {
  PlotSpec loss{.title = "Loss",
                .x_label = "step",
                .y_label = "loss (nats/token)",
                .series = {column(train, "loss", "train", false, "#1f77b4"),
                           column(valid, "loss", "valid", true, "#d62728")}};
  PlotSpec perplexity{.title = "Validation perplexity",
                      .x_label = "step",
                      .y_label = "perplexity",
                      .series = {column(valid, "perplexity", "valid", true, "#d62728")}};
  for (const auto& chain : chains)
    loss.references.push_back({chain.loss, chain.label + " = " + format_number(chain.loss)});
  // The last half of the run, where the differences that matter are hundredths of a nat: the
  // full plot's scale is set by the first steps.
  PlotSpec zoomed = loss;
  zoomed.title = "Loss, last half of the run";
  double last_step = kNaN;
  for (const json* row : train)
    last_step = std::fmax(last_step, number(*row, "step"));
  for (auto& series : zoomed.series) {
    std::vector<double> x, y;
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (series.x[i] >= last_step / 2) x.push_back(series.x[i]), y.push_back(series.y[i]);
    }
    series.x = std::move(x);
    series.y = std::move(y);
  }
  if (std::isfinite(prior)) {
    const double uniform = std::exp(prior);
    loss.references.push_back({prior, "stride prior ln(4^s) = " + format_number(prior)});
    perplexity.references.push_back({uniform, "exp(stride prior) = " + format_number(uniform)});
    // Perplexity starts near 4^s and may end far below it: a log axis keeps the end readable.
    double low = uniform;
    for (double y : perplexity.series[0].y)
      if (y > 0 && std::isfinite(y)) low = std::min(low, y);
    perplexity.log_y = uniform / low > 8;
  }
  const PlotSpec speed{.title = "Training throughput",
                       .x_label = "step",
                       .y_label = "tokens/s",
                       .series = {column(train, "tokens_per_s", "train", false, "#9467bd")},
                       .include_zero = true};
  return svg_line_plot(loss) + svg_line_plot(zoomed) + svg_line_plot(perplexity) +
         learning_rate_plot(run, train, notes) + svg_line_plot(speed);
}

constexpr const char* kStyle = R"(<style>
body { font-family: sans-serif; color: #222; max-width: 1000px; margin: 24px auto; padding: 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: normal; color: #555; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 12px; overflow-x: auto; }
svg { display: block; margin: 12px 0; max-width: 100%; height: auto; }
.notes { background: #fff6e0; border: 1px solid #e8c86a; padding: 8px 12px; }
.note { color: #777; }
.columns { display: flex; gap: 32px; flex-wrap: wrap; }
td.number { text-align: right; }
tr.best td, tr.best th { font-weight: bold; }
table.confusion td { text-align: right; min-width: 3em; }
</style>
)";

}  // namespace

std::string page_start(const std::string& name) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         escape_markup(name) + " \u2014 genolm run report</title>\n" + kStyle +
         "</head>\n<body>\n<h1>" + escape_markup(name) + "</h1>\n";
}

namespace {

std::string page(const std::filesystem::path& run_dir) {
  RunInputs in = read_inputs(run_dir);
  auto folder = std::filesystem::absolute(run_dir).lexically_normal();
  if (!folder.has_filename()) folder = folder.parent_path();  // "runs/x/" names "x"
  const std::string name =
      in.run.contains("name") ? text_of(in.run.at("name")) : folder.filename().string();
  const auto prior_field = in.run.find("stride_prior");
  const double prior =
      prior_field != in.run.end() && prior_field->is_number() ? prior_field->get<double>() : kNaN;
  const auto train = split_rows(in.rows, "train"), valid = split_rows(in.rows, "valid");
  // A "task" object is what marks a fine-tuning run; pretraining runs have none.
  std::optional<FinetuneParts> finetune;
  if (const auto task = in.run.find("task"); task != in.run.end() && task->is_object())
    finetune = finetune_parts(in.run, *task, in.rows, run_dir, in.notes);
  else if (task != in.run.end())
    in.notes.push_back(std::string("run.json's \"task\" is a JSON ") + task->type_name() +
                       " (expected an object); the run is shown as a pretraining run.");

  // Before the notes are laid out: drawing the curves may add some.
  const std::string body = finetune
                               ? finetune->body
                               : "<h2>Curves</h2>\n" + plots(in.run, train, valid, prior,
                                                             markov_baselines(in.run), in.notes);
  std::string html = page_start(name);
  if (!in.notes.empty()) {
    html += "<div class=\"notes\">\n";
    for (const auto& note : in.notes)
      html += "<p>" + escape_markup(note) + "</p>\n";
    html += "</div>\n";
  }
  html += "<h2>Summary</h2>\n" + (finetune ? finetune_summary(in, name, *finetune)
                                           : summary(in, name, train, valid, prior));
  html += "<div class=\"columns\">\n<div>\n<h2>Tokenizer</h2>\n" +
          object_table(in.run, "tokenizer") + "</div>\n<div>\n<h2>Model</h2>\n" +
          object_table(in.run, "model") + "</div>\n</div>\n";
  html += body;
  html += "<h2>Recipe (config.toml)</h2>\n";
  html += in.config.empty() ? "<p class=\"note\">Not available.</p>\n"
                            : "<pre>" + escape_markup(in.config) + "</pre>\n";
  return html + "</body>\n</html>\n";
}

}  // namespace

void write_run_report(const std::filesystem::path& run_dir) {
  if (!std::filesystem::is_directory(run_dir))
    throw Error("run folder " + run_dir.string() +
                " does not exist (expected the folder a training run writes)");
  const std::string html = page(run_dir);
  const auto target = run::RunLayout(run_dir).report();
  write_file_atomically(target, html);
}

}  // namespace genolm::report
