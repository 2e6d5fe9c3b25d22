#pragma once
// Recipes: TOML files whose every key is declared in one schema (recipe_schema.cpp) with a type,
// a default and a line of help. Layers apply in order: defaults, the recipe file, command-line
// flags, then `--set section.key=value`. An unknown key or a wrong type is an error that names the
// key (and the file), with a suggestion for likely typos: nothing is silently ignored.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace genolm::config {

enum class ValueKind { integer, number, boolean, string, string_list, number_list };

using Value = std::variant<std::int64_t, double, bool, std::string, std::vector<std::string>,
                           std::vector<double>>;

struct KeySpec {
  std::string_view key;  // "section.name"
  ValueKind kind;
  Value default_value;
  std::string_view help;
  std::vector<std::string_view> choices = {};  // allowed strings, when the set is closed
  double min = -1e300;                         // inclusive bounds for numbers (and list items)
  double max = 1e300;
};

// Every key any recipe may hold, in the order --dump-config prints them.
const std::vector<KeySpec>& recipe_schema();

class Recipe {
 public:
  // Every key at its default.
  Recipe();

  // Applies a TOML file on top. Errors name the file and the key.
  void merge_file(const std::filesystem::path& file);
  // Applies "section.key=value". The value is read as TOML when it parses as such, so lists are
  // ["a.fa", "b.fa"]; a plain word is taken as a string, and a comma list as a list of strings.
  void set(std::string_view assignment);
  // Applies a value given by a command-line flag, checked like any other.
  void set_value(std::string_view key, Value value, std::string_view origin);

  std::int64_t integer(std::string_view key) const;
  double number(std::string_view key) const;
  bool boolean(std::string_view key) const;
  const std::string& string(std::string_view key) const;
  const std::vector<std::string>& strings(std::string_view key) const;
  const std::vector<double>& numbers(std::string_view key) const;

  // The resolved recipe as TOML, section by section, each key with its help as a comment.
  std::string dump() const;
  // Keys whose values differ between this recipe and `other`, in schema order.
  std::vector<std::string> differences(const Recipe& other) const;
  // Files merged so far, for logs and run folders.
  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  const Value& get(std::string_view key, ValueKind kind) const;
  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::filesystem::path> files_;
};

}  // namespace genolm::config
