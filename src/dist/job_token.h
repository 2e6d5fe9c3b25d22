#pragma once
// The job token: a secret every rank of a job holds (GENOLM_JOB_TOKEN) and proves to the others at
// the rendezvous, so that a process that merely reaches the master's port cannot join the job.
// A proof is HMAC-SHA256(token, nonce:rank) with a fresh nonce from rank 0: the token itself never
// crosses the network, and a proof seen once is worth nothing in another job.

#include <string>

namespace genolm::dist {

// The environment variable that carries the token to every rank.
inline constexpr const char* kJobTokenVariable = "GENOLM_JOB_TOKEN";

// 32 random bytes (OpenSSL's generator) as 64 hex digits: a token, or a nonce.
std::string random_hex_secret();

// HMAC-SHA256 of "<nonce>:<rank>" under `token`, as 64 hex digits.
std::string token_proof(const std::string& token, const std::string& nonce, int rank);

// Compares two proofs in time that does not depend on where they differ.
bool same_proof(const std::string& a, const std::string& b);

}  // namespace genolm::dist
