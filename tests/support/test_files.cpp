#include "support/test_files.h"

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "genolm/error.h"
#include "genolm/remove_tree.h"

namespace genolm::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() /
          ("genolm-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(entropy()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  remove_tree(path_, ignored);
}

void write_text(const std::filesystem::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

void write_gzip(const std::filesystem::path& file, std::string_view text) {
  gzFile gz = gzopen(file.c_str(), "wb");
  if (gz == nullptr) throw std::runtime_error("cannot write " + file.string());
  if (!text.empty()) gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string random_dna(std::size_t length, unsigned seed) {
  std::mt19937 generator(seed);
  std::string dna(length, 'A');
  for (char& base : dna)
    base = "ACGT"[generator() & 3u];
  return dna;
}

std::string tandem_repeats(std::size_t length, unsigned seed) {
  std::mt19937 rng(seed);
  const std::string unit = random_dna(37, seed);
  std::string dna;
  while (dna.size() < length)
    dna += unit;
  dna.resize(length);
  for (char& base : dna) {
    if (rng() % 100 < 3) base = "ACGT"[rng() % 4];
  }
  return dna;
}

std::string fasta_record(const std::string& name, const std::string& dna) {
  std::string fasta = ">" + name + "\n";
  for (std::size_t i = 0; i < dna.size(); i += 70)
    fasta += dna.substr(i, 70) + "\n";
  return fasta;
}

}  // namespace genolm::test
