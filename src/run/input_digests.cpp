#include "run/input_digests.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "genolm/error.h"

namespace genolm::run {

using nlohmann::json;

namespace {

// The task files fine-tuning reads again on resume.
constexpr const char* kTaskFiles[] = {"task.train", "task.valid", "task.test"};

std::string hex(const unsigned char* bytes, unsigned size) {
  std::string out;
  char pair[3];
  for (unsigned i = 0; i < size; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", bytes[i]);
    out += pair;
  }
  return out;
}

// The SHA-256 of a whole file, in hex; nothing when it cannot be opened.
std::optional<std::string> file_sha256(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
    throw Error("cannot compute the SHA-256 of " + file.string() + ": OpenSSL failed");
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    if (in.gcount() > 0 &&
        EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount())) != 1)
      throw Error("cannot compute the SHA-256 of " + file.string() + ": OpenSSL failed");
  }
  if (in.bad()) throw Error("cannot read " + file.string() + " to pin its content");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned size = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1)
    throw Error("cannot compute the SHA-256 of " + file.string() + ": OpenSSL failed");
  return hex(digest.data(), size);
}

}  // namespace

json input_digests(const config::Recipe& recipe, config::Command command) {
  json out = json::object();
  if (command != config::Command::finetune) return out;
  for (const char* key : kTaskFiles) {
    const std::string path = recipe.string(key);
    std::error_code error;
    if (path.empty() || path == "-" || !std::filesystem::is_regular_file(path, error)) continue;
    if (const auto digest = file_sha256(path)) out[key] = {{"path", path}, {"sha256", *digest}};
  }
  return out;
}

void check_inputs_unchanged(const RunLayout& run, const json& recorded, const json& now) {
  if (!recorded.is_object()) return;
  for (const auto& [key, pinned] : recorded.items()) {
    if (!pinned.is_object() || !pinned.contains("sha256")) continue;
    const std::string path = pinned.value("path", std::string());
    const auto current = now.find(key);
    const std::string was = pinned["sha256"].is_string() ? pinned["sha256"].get<std::string>() : "";
    if (current != now.end() && current->value("sha256", std::string()) == was) continue;
    throw Error("cannot resume " + run.dir().string() + ": " + key + " (" + path + ") " +
                (current == now.end()
                     ? "can no longer be read"
                     : "has changed since the run started (SHA-256 " + was.substr(0, 12) +
                           "... then, " + current->value("sha256", std::string()).substr(0, 12) +
                           "... now)") +
                "; resuming would train one run on two datasets: restore the file, or start a "
                "new run (another run.name)");
  }
}

}  // namespace genolm::run
