#include "common/ids.hpp"

#include <random>

#include "common/time.hpp"

namespace smsd {

std::string new_id(const char* prefix) {
  static constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out = prefix;
  auto t = static_cast<std::uint64_t>(now_millis());
  char time_part[10];
  for (int i = 9; i >= 0; --i) {
    time_part[i] = alphabet[t & 31];
    t >>= 5;
  }
  out.append(time_part, 10);
  auto r1 = rng(), r2 = rng();
  for (int i = 0; i < 8; ++i) {
    out.push_back(alphabet[r1 & 31]);
    r1 >>= 5;
    out.push_back(alphabet[r2 & 31]);
    r2 >>= 5;
  }
  return out;
}

} // namespace smsd
