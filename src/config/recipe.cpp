#include "config/recipe.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "genolm/error.h"

namespace genolm::config {
namespace {

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t point = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      point = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t j = 1; j < length; ++j) {
      const auto next = static_cast<unsigned char>(text[i + j]);
      if ((next & 0xC0) != 0x80) return false;
      point = (point << 6) | (next & 0x3F);
    }
    constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (point < kSmallest[length] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key) {
  std::string message = "unknown key '" + std::string(key) + "'";
  const KeySpec* best = nullptr;
  std::size_t best_distance = 3;  // suggest only near misses
  for (const auto& spec : recipe_schema()) {
    const std::size_t distance = edit_distance(key, spec.key);
    if (distance < best_distance) {
      best_distance = distance;
      best = &spec;
    }
  }
  if (best != nullptr)
    message += " (did you mean '" + std::string(best->key) + "'?)";
  else
    message += " (see 'genolm <command> --dump-config' for the keys there are)";
  return message;
}

std::string_view kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::integer:
      return "an integer";
    case ValueKind::number:
      return "a number";
    case ValueKind::boolean:
      return "true or false";
    case ValueKind::string:
      return "a string";
    case ValueKind::string_list:
      return "a list of strings";
    case ValueKind::number_list:
      return "a list of numbers";
  }
  return "a value";
}

std::string_view node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "a list";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

// Converts a TOML node to the key's kind, or returns an empty optional when the type is wrong.
std::optional<Value> convert(const toml::node& node, ValueKind kind) {
  switch (kind) {
    case ValueKind::integer:
      if (auto v = node.value_exact<std::int64_t>()) return Value(*v);
      break;
    case ValueKind::number:
      if (node.is_integer()) return Value(static_cast<double>(*node.value_exact<std::int64_t>()));
      if (auto v = node.value_exact<double>()) return Value(*v);
      break;
    case ValueKind::boolean:
      if (auto v = node.value_exact<bool>()) return Value(*v);
      break;
    case ValueKind::string:
      if (auto v = node.value_exact<std::string>()) return Value(*v);
      break;
    case ValueKind::string_list:
      if (auto v = node.value_exact<std::string>()) return Value(std::vector<std::string>{*v});
      if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *array) {
          auto text = item.value_exact<std::string>();
          if (!text) return std::nullopt;
          items.push_back(*text);
        }
        return Value(std::move(items));
      }
      break;
    case ValueKind::number_list:
      if (node.is_number()) return Value(std::vector<double>{*node.value<double>()});
      if (const auto* array = node.as_array()) {
        std::vector<double> items;
        for (const auto& item : *array) {
          if (!item.is_number()) return std::nullopt;
          items.push_back(*item.value<double>());
        }
        return Value(std::move(items));
      }
      break;
  }
  return std::nullopt;
}

// Checks choices and bounds; returns an error text or empty.
std::string check_range(const KeySpec& spec, const Value& value) {
  std::ostringstream why;
  if (const auto* text = std::get_if<std::string>(&value); text && !spec.choices.empty()) {
    if (std::find(spec.choices.begin(), spec.choices.end(), *text) == spec.choices.end()) {
      why << "'" << *text << "' is not one of";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        why << (i == 0 ? " " : ", ") << spec.choices[i];
      }
      return why.str();
    }
  }
  std::vector<double> numbers;
  if (const auto* i = std::get_if<std::int64_t>(&value))
    numbers.push_back(static_cast<double>(*i));
  else if (const auto* d = std::get_if<double>(&value))
    numbers.push_back(*d);
  else if (const auto* list = std::get_if<std::vector<double>>(&value))
    numbers = *list;
  for (const double number : numbers) {
    if (number < spec.min || number > spec.max) {
      why << number << " is out of range (expected ";
      if (spec.max >= 1e299)
        why << "at least " << spec.min << ")";
      else
        why << spec.min << " to " << spec.max << ")";
      return why.str();
    }
  }
  return {};
}

// The shortest text that reads back as the same double, as people write numbers: 3e-04, 0.1 and
// 1, not 0.00029999999999999997, 0.10000000000000001 and 1.0 (a number key reads an integer).
std::string shortest_number(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

std::string format_value(const Value& value) {
  // Basic (double-quoted) strings, as people write them; toml++ would pick literal ones.
  constexpr auto flags = toml::format_flags::none;
  std::ostringstream out;
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<double>>) {
          out << "[";
          for (std::size_t i = 0; i < v.size(); ++i)
            out << (i == 0 ? " " : ", ") << shortest_number(v[i]);
          out << (v.empty() ? "]" : " ]");
        } else if constexpr (std::is_same_v<T, double>) {
          out << shortest_number(v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          toml::array array;
          for (const auto& item : v)
            array.push_back(item);
          out << toml::toml_formatter{array, flags};
        } else {
          out << toml::toml_formatter{toml::value<T>(v), flags};
        }
      },
      value);
  return out.str();
}

// Absolute paths for the keys that name files or folders to read (relative ones resolved against
// `base`), so that a run's config.toml reads back the same from its own folder. Empty values and
// "-" (standard input) stay as they are.
Value resolve_paths(const KeySpec& spec, Value value, const std::filesystem::path& base) {
  if (!names_input_path(spec.key)) return value;
  const auto resolve = [&base](std::string& path) {
    if (path.empty() || path == "-") return;
    path = (base / std::filesystem::path(path)).lexically_normal().string();
  };
  if (auto* one = std::get_if<std::string>(&value)) resolve(*one);
  if (auto* many = std::get_if<std::vector<std::string>>(&value))
    for (auto& path : *many)
      resolve(path);
  return value;
}

}  // namespace

std::string command_name(Command command) {
  switch (command) {
    case Command::corpus:
      return "genolm corpus";
    case Command::pretrain:
      return "genolm pretrain";
    case Command::finetune:
      return "genolm finetune";
  }
  return "genolm";
}

const KeySpec* find_key(std::string_view key) {
  for (const auto& spec : recipe_schema()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Recipe::Recipe() {
  for (const auto& spec : recipe_schema())
    values_[std::string(spec.key)] = spec.default_value;
}

void Recipe::assign(const KeySpec& spec, Value value, Origin origin) {
  if (const std::string why = check_range(spec, value); !why.empty()) {
    throw Error(origin.where + ": key '" + std::string(spec.key) + "': " + why);
  }
  values_[std::string(spec.key)] = std::move(value);
  origins_[std::string(spec.key)] = std::move(origin);
}

void Recipe::set_value(std::string_view key, Value value, std::string_view origin) {
  const KeySpec* spec = find_key(key);
  if (spec == nullptr) throw Error(std::string(origin) + ": " + unknown_key_message(key));
  // A path typed on the command line means what it means to the shell: the current folder's.
  assign(*spec, resolve_paths(*spec, std::move(value), std::filesystem::current_path()),
         {std::string(origin), /*file=*/false});
}

void Recipe::check_read_by(Command command) const {
  const Commands accepted_in_files = also_accepted_in_files(command);
  std::vector<const KeySpec*> unread;
  for (const auto& spec : recipe_schema()) {
    const auto origin = origins_.find(spec.key);
    if (origin == origins_.end() || spec.read_by(command)) continue;
    if (origin->second.file && spec.use.read_by.shares_any(accepted_in_files)) continue;
    unread.push_back(&spec);
  }
  if (unread.empty()) return;
  const KeySpec& first = *unread.front();
  std::string message = origins_.find(first.key)->second.where + ": recipe key '" +
                        std::string(first.key) + "' is not read by '" + command_name(command) + "'";
  if (const std::string_view hint = unread_key_hint(first.key, command); !hint.empty())
    message += ": " + std::string(hint);
  if (unread.size() > 1) {
    message += unread.size() == 2 ? " (nor is" : " (nor are";
    for (std::size_t i = 1; i < unread.size(); ++i)
      message += (i == 1 ? " '" : ", '") + std::string(unread[i]->key) + "'";
    message += ")";
  }
  throw Error(message);
}

void Recipe::merge_file(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw Error(file.string() + ": no such recipe file");
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw Error(file.string() + " line " + std::to_string(e.source().begin.line) +
                ": not valid TOML (" + std::string(e.description()) + ")");
  }
  // A recipe's paths are relative to the recipe, so that a shipped recipe works from anywhere.
  const auto recipe_folder = std::filesystem::absolute(file).parent_path();
  for (const auto& [section_key, section_node] : table) {
    const std::string section(section_key.str());
    const auto* section_table = section_node.as_table();
    if (section_table == nullptr) {
      throw Error(file.string() + " line " + std::to_string(section_node.source().begin.line) +
                  ": " + unknown_key_message(section) +
                  "; keys belong in sections such as [data] or [train]");
    }
    for (const auto& [name, node] : *section_table) {
      const std::string key = section + "." + std::string(name.str());
      const std::string where = file.string() + " line " + std::to_string(node.source().begin.line);
      const KeySpec* spec = find_key(key);
      if (spec == nullptr) throw Error(where + ": " + unknown_key_message(key));
      auto value = convert(node, spec->kind);
      if (!value) {
        throw Error(where + ": key '" + key + "' expects " + std::string(kind_name(spec->kind)) +
                    ", got " + std::string(node_type_name(node)));
      }
      assign(*spec, resolve_paths(*spec, std::move(*value), recipe_folder), {where, /*file=*/true});
    }
  }
  files_.push_back(file);
}

void Recipe::set(std::string_view assignment) {
  const std::size_t equals = assignment.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    throw Error("--set '" + std::string(assignment) + "': expected section.key=value");
  }
  const std::string key(assignment.substr(0, equals));
  const std::string text(assignment.substr(equals + 1));
  const KeySpec* spec = find_key(key);
  if (spec == nullptr) throw Error("--set: " + unknown_key_message(key));
  // config.toml must read back on --resume, and TOML is UTF-8.
  if (!valid_utf8(text)) {
    throw Error("--set " + key + ": the value is not valid UTF-8 (recipes are UTF-8 text)");
  }

  std::optional<Value> value;
  try {
    const toml::table parsed = toml::parse("value = " + text);
    value = convert(*parsed.get("value"), spec->kind);
    // A string key takes the text as written: run.name=2024 names a run "2024".
    if (!value && spec->kind == ValueKind::string) value = Value(text);
    if (!value) {
      throw Error("--set: key '" + key + "' expects " + std::string(kind_name(spec->kind)) +
                  ", got " + std::string(node_type_name(*parsed.get("value"))) + " '" + text + "'");
    }
  } catch (const toml::parse_error&) {
    // Not TOML: bare words are strings, comma lists are lists of strings.
    if (spec->kind == ValueKind::string) {
      value = Value(text);
    } else if (spec->kind == ValueKind::string_list) {
      std::vector<std::string> items;
      std::stringstream stream(text);
      for (std::string item; std::getline(stream, item, ',');) {
        if (!item.empty()) items.push_back(item);
      }
      value = Value(std::move(items));
    } else if (spec->kind == ValueKind::number_list) {
      // "1,0.5,0.1" as well as TOML's [1, 0.5, 0.1].
      std::vector<double> items;
      std::stringstream stream(text);
      for (std::string item; std::getline(stream, item, ',');) {
        std::size_t used = 0;
        double number = 0;
        try {
          number = std::stod(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != item.size()) {
          throw Error("--set: key '" + key + "' expects a list of numbers, got '" + text + "'");
        }
        items.push_back(number);
      }
      value = Value(std::move(items));
    } else {
      throw Error("--set: key '" + key + "' expects " + std::string(kind_name(spec->kind)) +
                  ", got '" + text + "'");
    }
  }
  set_value(key, std::move(*value), "--set");
}

const Value& Recipe::get(std::string_view key, ValueKind kind) const {
  const KeySpec* spec = find_key(key);
  const auto found = values_.find(key);
  if (spec == nullptr || spec->kind != kind || found == values_.end()) {
    // A programming error, not a user's: the code asked for an undeclared key.
    throw Error("internal: recipe key '" + std::string(key) + "' is not declared as " +
                std::string(kind_name(kind)));
  }
  return found->second;
}

std::int64_t Recipe::integer(std::string_view key) const {
  return std::get<std::int64_t>(get(key, ValueKind::integer));
}
double Recipe::number(std::string_view key) const {
  return std::get<double>(get(key, ValueKind::number));
}
bool Recipe::boolean(std::string_view key) const {
  return std::get<bool>(get(key, ValueKind::boolean));
}
const std::string& Recipe::string(std::string_view key) const {
  return std::get<std::string>(get(key, ValueKind::string));
}
const std::vector<std::string>& Recipe::strings(std::string_view key) const {
  return std::get<std::vector<std::string>>(get(key, ValueKind::string_list));
}
const std::vector<double>& Recipe::numbers(std::string_view key) const {
  return std::get<std::vector<double>>(get(key, ValueKind::number_list));
}

std::vector<std::string> Recipe::differing_keys(
    const Recipe& other, const std::function<bool(const KeySpec&)>& keep) const {
  std::vector<std::string> keys;
  for (const auto& spec : recipe_schema()) {
    if (!keep(spec)) continue;
    const std::string key(spec.key);
    if (format_value(values_.at(key)) != format_value(other.values_.at(key))) keys.push_back(key);
  }
  return keys;
}

std::vector<std::string> Recipe::differences(const Recipe& other) const {
  return differing_keys(other, [](const KeySpec&) { return true; });
}

std::vector<std::string> Recipe::differences(const Recipe& other, Command command) const {
  return differing_keys(other, [command](const KeySpec& spec) { return spec.read_by(command); });
}

std::string Recipe::dump() const {
  return dump_keys([](const KeySpec&) { return true; });
}

std::string Recipe::dump(Command command,
                         const std::map<std::string, std::string>& supplied) const {
  return dump_keys([command](const KeySpec& spec) { return spec.read_by(command); }, supplied);
}

std::string Recipe::dump_keys(const std::function<bool(const KeySpec&)>& keep,
                              const std::map<std::string, std::string>& supplied) const {
  std::ostringstream out;
  std::string section;
  for (const auto& spec : recipe_schema()) {
    if (!keep(spec)) continue;
    const std::string_view key = spec.key;
    const std::string_view this_section = key.substr(0, key.find('.'));
    if (this_section != section) {
      out << (section.empty() ? "" : "\n") << "[" << this_section << "]\n";
      section = std::string(this_section);
    }
    const std::string_view name = key.substr(key.find('.') + 1);
    out << "# " << spec.help << "\n";
    if (const auto note = supplied.find(std::string(key)); note != supplied.end()) {
      out << "# " << name << ": " << note->second << "\n";
    } else {
      out << name << " = " << format_value(values_.at(std::string(key))) << "\n";
    }
  }
  return out.str();
}

}  // namespace genolm::config
