#pragma once
// Recipes: TOML files whose every key is declared in one schema (recipe_schema.cpp) with a type,
// a default and a line of help. Layers apply in order: defaults, the recipe file, command-line
// flags, then `--set section.key=value`. An unknown key or a wrong type is an error that names the
// key (and the file), with a suggestion for likely typos: nothing is silently ignored. The schema
// also says which commands read each key: a key set for a command that does not read it is an error
// too (Recipe::check_read_by).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace genolm::config {

// The commands that read recipes.
enum class Command : std::uint8_t { corpus, pretrain, finetune };

// "genolm corpus", "genolm pretrain", "genolm finetune".
std::string command_name(Command command);

// A set of commands: those that read a key.
class Commands {
 public:
  constexpr Commands() = default;
  // Implicit, so that one command reads as the set of it.
  constexpr Commands(Command command) : bits_(bit(command)) {}
  constexpr bool contains(Command command) const { return (bits_ & bit(command)) != 0; }
  constexpr bool shares_any(Commands other) const { return (bits_ & other.bits_) != 0; }
  friend constexpr Commands operator|(Commands a, Commands b) {
    Commands both;
    both.bits_ = a.bits_ | b.bits_;
    return both;
  }

 private:
  static constexpr unsigned bit(Command command) { return 1u << static_cast<unsigned>(command); }
  unsigned bits_ = 0;
};

// How a key is used: the commands that read it, and whether a resumed run may change it (the length
// of training and how often it reports; everything else must stay as the run started).
struct KeyUse {
  // Implicit, so that the schema writes a set of commands where the key's use is meant.
  constexpr KeyUse(Commands commands, bool may_change = false)
      : read_by(commands), may_change_on_resume(may_change) {}
  Commands read_by;
  bool may_change_on_resume;
};

// The use of a key that a resumed run may change.
constexpr KeyUse resumable(Commands read_by) {
  return KeyUse(read_by, true);
}

enum class ValueKind { integer, number, boolean, string, string_list, number_list };

using Value = std::variant<std::int64_t, double, bool, std::string, std::vector<std::string>,
                           std::vector<double>>;

struct KeySpec {
  std::string_view key;  // "section.name"
  ValueKind kind;
  Value default_value;
  KeyUse use;
  std::string_view help;
  std::vector<std::string_view> choices = {};  // allowed strings, when the set is closed
  double min = -1e300;                         // inclusive bounds for numbers (and list items)
  double max = 1e300;

  bool read_by(Command command) const { return use.read_by.contains(command); }
  bool may_change_on_resume() const { return use.may_change_on_resume; }
};

// Every key any recipe may hold, in the order --dump-config prints them.
const std::vector<KeySpec>& recipe_schema();
// The schema's entry for `key`, or nullptr.
const KeySpec* find_key(std::string_view key);

// Whether `key` names files or folders genolm reads (data.train, task.test, encoder.from, ...):
// relative ones resolve against the recipe file's folder, or the current one on the command line.
bool names_input_path(std::string_view key);

// Keys a recipe file may hold for `command` although it does not read them: 'genolm corpus'
// builds the corpus of a pretraining recipe and leaves pretraining's own keys to pretraining.
Commands also_accepted_in_files(Command command);
// What to do instead, for a key `command` does not read ("" when there is nothing to add).
std::string_view unread_key_hint(std::string_view key, Command command);

class Recipe {
 public:
  // Every key at its default.
  Recipe();

  // Applies a TOML file on top. Errors name the file and the key.
  void merge_file(const std::filesystem::path& file);
  // Applies "section.key=value". The value is read as TOML when it parses as such, so lists are
  // ["a.fa", "b.fa"]; a plain word is taken as a string, and a comma list as a list of strings.
  void set(std::string_view assignment);
  // Applies a value given by a command-line flag (`origin` names it), checked like any other.
  void set_value(std::string_view key, Value value, std::string_view origin);

  // Throws genolm::Error for a key set by a file, a flag or --set that `command` does not read,
  // naming the key, where it was set and the command. Keys left at their defaults never count.
  void check_read_by(Command command) const;
  // Whether a file, a flag or --set gave `key` a value (even its default).
  bool is_set(std::string_view key) const { return origins_.count(key) != 0; }

  std::int64_t integer(std::string_view key) const;
  double number(std::string_view key) const;
  bool boolean(std::string_view key) const;
  const std::string& string(std::string_view key) const;
  const std::vector<std::string>& strings(std::string_view key) const;
  const std::vector<double>& numbers(std::string_view key) const;

  // The resolved recipe as TOML, section by section, each key with its help as a comment: every
  // key, or those `command` reads (a recipe for that command that reads back the same).
  // Each key of `supplied` is written as a comment that gives its note instead of its value: keys
  // whose values come from elsewhere (a pretrained run), whose defaults would mislead a reader.
  // The text still reads back as the same recipe.
  std::string dump() const;
  std::string dump(Command command, const std::map<std::string, std::string>& supplied = {}) const;
  // Keys whose values differ between this recipe and `other`, in schema order: every key, or
  // those `command` reads.
  std::vector<std::string> differences(const Recipe& other) const;
  std::vector<std::string> differences(const Recipe& other, Command command) const;
  // Files merged so far, for logs and run folders.
  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  // Where a key was set: "FILE line N", "--set" or the flag; whether that was a recipe file.
  struct Origin {
    std::string where;
    bool file = false;
  };

  const Value& get(std::string_view key, ValueKind kind) const;
  void assign(const KeySpec& spec, Value value, Origin origin);
  std::string dump_keys(const std::function<bool(const KeySpec&)>& keep,
                        const std::map<std::string, std::string>& supplied = {}) const;
  std::vector<std::string> differing_keys(const Recipe& other,
                                          const std::function<bool(const KeySpec&)>& keep) const;

  std::map<std::string, Value, std::less<>> values_;
  std::map<std::string, Origin, std::less<>> origins_;
  std::vector<std::filesystem::path> files_;
};

}  // namespace genolm::config
