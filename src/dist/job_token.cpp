#include "dist/job_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>

#include "genolm/error.h"

namespace genolm::dist {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  std::string text(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i)
    std::snprintf(&text[2 * i], 3, "%02x", bytes[i]);
  return text;
}

}  // namespace

std::string random_hex_secret() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw Error("cannot draw a random job token: OpenSSL's random generator failed");
  }
  return hex(bytes.data(), bytes.size());
}

std::string token_proof(const std::string& token, const std::string& nonce, int rank) {
  const std::string message = nonce + ":" + std::to_string(rank);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), token.data(), static_cast<int>(token.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
           &size) == nullptr) {
    throw Error("cannot compute the job token's proof: OpenSSL's HMAC failed");
  }
  return hex(digest.data(), size);
}

bool same_proof(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace genolm::dist
