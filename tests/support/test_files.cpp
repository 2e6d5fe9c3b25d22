#include "support/test_files.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
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

std::string error_with_file_size_limit(std::size_t bytes, const std::function<void()>& action) {
  int channel[2];
  if (::pipe(channel) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(channel[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit cap{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &cap);
    std::string message = "no error";
    try {
      action();
    } catch (const Error& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("another exception: ") + e.what();
    }
    [[maybe_unused]] const auto sent = ::write(channel[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(channel[1]);
  std::string message;
  char buffer[512];
  for (::ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) > 0;)
    message.append(buffer, static_cast<std::size_t>(n));
  ::close(channel[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status)) return "the child ended by signal " + std::to_string(WTERMSIG(status));
  return message;
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
