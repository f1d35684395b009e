#include "core/ulid.h"

#include <array>
#include <mutex>

#include "absl/random/random.h"

namespace custos {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

struct State {
  std::mutex mu;
  absl::BitGen gen;
  int64_t last_ms = -1;
  std::array<uint8_t, 10> last_random{};
};

}  // namespace

std::string NewUlid(int64_t time_ms) {
  static State* state = new State();
  std::array<uint8_t, 10> rnd;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (time_ms <= state->last_ms) {
      // Same (or earlier) millisecond: increment the previous random part so ids stay sorted.
      time_ms = state->last_ms;
      rnd = state->last_random;
      for (int i = 9; i >= 0; --i) {
        if (++rnd[i] != 0) break;
      }
    } else {
      for (auto& b : rnd) b = absl::Uniform<uint8_t>(state->gen);
    }
    state->last_ms = time_ms;
    state->last_random = rnd;
  }
  std::string out(26, '0');
  uint64_t t = static_cast<uint64_t>(time_ms) & ((uint64_t{1} << 48) - 1);
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[t & 31];
    t >>= 5;
  }
  // 80 random bits -> 16 characters.
  int bit = 0;
  for (int i = 10; i < 26; ++i) {
    int value = 0;
    for (int k = 0; k < 5; ++k, ++bit) {
      value = (value << 1) | ((rnd[bit / 8] >> (7 - bit % 8)) & 1);
    }
    out[i] = kAlphabet[value];
  }
  return out;
}

int64_t UlidTimeMs(const std::string& ulid) {
  if (ulid.size() != 26) return -1;
  int64_t t = 0;
  for (int i = 0; i < 10; ++i) {
    const int v = DecodeChar(ulid[i]);
    if (v < 0) return -1;
    t = (t << 5) | v;
  }
  for (int i = 10; i < 26; ++i) {
    if (DecodeChar(ulid[i]) < 0) return -1;
  }
  return t;
}

}  // namespace custos
