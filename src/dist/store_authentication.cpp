#include "dist/store_authentication.h"

#include <exception>
#include <vector>

#include "dist/job_token.h"
#include "genolm/error.h"
#include "util/log.h"

namespace genolm::dist {
namespace {

// Under a prefix of their own, apart from the keys the process groups write.
const std::string kNonce = "genolm/auth/nonce";
const std::string kVerdict = "genolm/auth/verdict";
std::string proof_key(int rank) {
  return "genolm/auth/proof/" + std::to_string(rank);
}

void put(c10d::Store& store, const std::string& key, const std::string& value) {
  store.set(key, std::vector<std::uint8_t>(value.begin(), value.end()));
}

std::string take(c10d::Store& store, const std::string& key) {
  const auto bytes = store.get(key);  // waits for the key, up to the store's timeout
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

void authenticate_ranks(c10d::Store& store, const World& world, const std::string& where) {
  const std::string& token = world.job_token;
  if (world.rank == 0) {
    if (token.empty()) {
      log("dist")->warn(
          "{} is not set: the rendezvous at {} admits any process that reaches it; set the same "
          "secret in {} for every rank ('genolm launch' draws one for a one-node job)",
          kJobTokenVariable, where, kJobTokenVariable);
    }
    const std::string nonce = random_hex_secret();
    put(store, kNonce, nonce);
    put(store, proof_key(0), token_proof(token, nonce, 0));
    for (int rank = 1; rank < world.size; ++rank) {
      if (!same_proof(take(store, proof_key(rank)), token_proof(token, nonce, rank))) {
        const std::string refusal = "a process joining as rank " + std::to_string(rank) + " at " +
                                    where + " did not present this job's token (" +
                                    kJobTokenVariable + ")";
        put(store, kVerdict, refusal);
        throw Error("rank 0: " + refusal +
                    "; the job stops rather than admit it (start every "
                    "rank with the same " +
                    kJobTokenVariable + ")");
      }
    }
    put(store, kVerdict, "ok");
    return;
  }
  // Rank 0's proof is read before this rank's is sent: once rank 0 has a wrong proof it refuses
  // and stops hosting the store, so nothing could be read from it after. This rank's proof goes
  // out before it judges rank 0's, so rank 0 refuses a rank with another token at once rather than
  // at its timeout; a proof is bound to this nonce and reveals nothing of the token.
  const std::string nonce = take(store, kNonce);
  const std::string rank0_proof = take(store, proof_key(0));
  std::exception_ptr send_failure;  // rank 0 may already have refused and gone: judged below
  try {
    put(store, proof_key(world.rank), token_proof(token, nonce, world.rank));
  } catch (const std::exception&) {
    send_failure = std::current_exception();
  }
  if (!same_proof(rank0_proof, token_proof(token, nonce, 0))) {
    throw Error("rank " + std::to_string(world.rank) + ": the rendezvous at " + where +
                " did not prove this job's token (" + kJobTokenVariable +
                "): it belongs to another job, or the ranks were started with different tokens");
  }
  if (send_failure) std::rethrow_exception(send_failure);
  if (const auto verdict = take(store, kVerdict); verdict != "ok") {
    throw Error("rank " + std::to_string(world.rank) + ": rank 0 refused the job: " + verdict);
  }
}

}  // namespace genolm::dist
