#include "actors/status_machine.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace smsd;

namespace {

struct step {
  std::string status;
  std::optional<std::string> error_code;
};

millis time_of(std::size_t i) {
  return 1'000'000 + static_cast<millis>(i) * 1000;
}

std::string payload_of(std::size_t i) {
  return "{\"n\":" + std::to_string(i) + "}";
}

status_fields run(const std::vector<step>& steps) {
  status_fields s;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto r = apply_status(s, {steps[i].status, steps[i].error_code, std::nullopt, payload_of(i),
                              time_of(i)});
    s = r.next;
  }
  return s;
}

// Every ordering of `base`, and every ordering with one report repeated at any position.
std::vector<std::vector<step>> orderings(std::vector<step> base) {
  std::vector<std::vector<step>> out;
  std::vector<std::size_t> idx(base.size());
  for (std::size_t i = 0; i < idx.size(); ++i)
    idx[i] = i;
  do {
    std::vector<step> p;
    for (auto i : idx)
      p.push_back(base[i]);
    out.push_back(p);
    for (std::size_t dup = 0; dup < p.size(); ++dup)
      for (std::size_t pos = 0; pos <= p.size(); ++pos) {
        auto q = p;
        q.insert(q.begin() + static_cast<long>(pos), p[dup]);
        out.push_back(q);
      }
  } while (std::next_permutation(idx.begin(), idx.end()));
  return out;
}

int rank_of(const std::string& s) {
  return map_twilio_status(s)->rank;
}

// What DESIGN §3 says the row must hold after the sequence, computed independently of
// apply_status: the final report decides status; sent_at is the first report of rank >= 3;
// delivered_at the first delivered; raw_payload the first final report's payload.
void check_final(const std::vector<step>& seq, const status_fields& s, const std::string& final_word,
                 const std::string& ours, const std::optional<std::string>& error_code,
                 const std::optional<std::string>& error_message) {
  std::optional<millis> first_sent, first_delivered, first_final;
  std::size_t final_index = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (!first_sent && rank_of(seq[i].status) >= 3)
      first_sent = time_of(i);
    if (!first_delivered && seq[i].status == "delivered")
      first_delivered = time_of(i);
    if (!first_final && seq[i].status == final_word) {
      first_final = time_of(i);
      final_index = i;
    }
  }
  INFO("sequence of " << seq.size() << " reports starting with " << seq.front().status);
  CHECK(s.status == ours);
  CHECK(s.provider_status == final_word);
  CHECK(s.status_rank == 4);
  CHECK(s.sent_at == first_sent);
  CHECK(s.delivered_at == first_delivered);
  CHECK(s.error_code == error_code);
  CHECK(s.error_message == error_message);
  CHECK(s.raw_payload == payload_of(final_index));
  CHECK(s.status_updated_at == *first_final);
}

} // namespace

TEST_CASE("every ordering of queued, sent, delivered, with duplicates, ends delivered",
          "[status_machine]") {
  auto all = orderings({{"queued", {}}, {"sent", {}}, {"delivered", {}}});
  REQUIRE(all.size() == 6 * (1 + 3 * 4));
  for (auto& seq : all)
    check_final(seq, run(seq), "delivered", "delivered", std::nullopt, std::nullopt);
}

TEST_CASE("every ordering of queued, sent, undelivered with an error code ends undelivered "
          "with that error",
          "[status_machine]") {
  for (auto& seq : orderings({{"queued", {}}, {"sent", {}}, {"undelivered", std::string("30003")}}))
    check_final(seq, run(seq), "undelivered", "undelivered", std::string("30003"),
                std::string("Unreachable handset"));
}

TEST_CASE("every ordering of accepted, queued, sending, sent, failed, with duplicates, ends "
          "failed",
          "[status_machine]") {
  auto all = orderings(
    {{"accepted", {}}, {"queued", {}}, {"sending", {}}, {"sent", {}}, {"failed", std::string("30007")}});
  REQUIRE(all.size() == 120 * (1 + 5 * 6));
  for (auto& seq : all)
    check_final(seq, run(seq), "failed", "failed", std::string("30007"),
                std::string("Carrier filtered"));
}

TEST_CASE("intermediate statuses only move forward", "[status_machine]") {
  status_fields s;
  s = apply_status(s, {"sent", {}, {}, "{}", 10}).next;
  auto r = apply_status(s, {"queued", {}, {}, "{}", 20});
  CHECK(r.outcome == change_outcome::stale);
  CHECK(r.next.status == "sent");
  CHECK(r.next.status_updated_at == 10);
  r = apply_status(s, {"sent", {}, {}, "{}", 30});
  CHECK(r.outcome == change_outcome::duplicate);
}

TEST_CASE("a later final status never overrides the first", "[status_machine]") {
  const char* finals[] = {"delivered", "undelivered", "failed", "canceled", "partially_delivered"};
  for (auto first : finals)
    for (auto second : finals) {
      status_fields s;
      s = apply_status(s, {first, std::string("30003"), {}, "{\"first\":1}", 10}).next;
      auto before = s;
      auto r = apply_status(s, {second, std::string("30007"), {}, "{\"second\":1}", 20});
      INFO(first << " then " << second);
      CHECK(r.outcome != change_outcome::applied);
      CHECK(r.next.status == before.status);
      CHECK(r.next.provider_status == before.provider_status);
      CHECK(r.next.error_code == before.error_code);
      CHECK(r.next.raw_payload == "{\"first\":1}");
      bool same_kind = map_twilio_status(first)->ours == std::string(map_twilio_status(second)->ours);
      CHECK(r.outcome == (same_kind ? change_outcome::duplicate : change_outcome::anomaly));
    }
}

TEST_CASE("a callback without ErrorCode never erases a stored error", "[status_machine]") {
  status_fields s;
  s = apply_status(s, {"undelivered", std::string("30003"), {}, "{}", 10}).next;
  for (auto word : {"undelivered", "sent", "queued", "delivered", "failed"}) {
    auto r = apply_status(s, {word, std::nullopt, {}, "{}", 20});
    CHECK(r.next.error_code == std::string("30003"));
    CHECK(r.next.error_message == std::string("Unreachable handset"));
  }
}

TEST_CASE("an error message from the report wins over the catalog's title", "[status_machine]") {
  status_fields s;
  auto r = apply_status(s, {"failed", std::string("30008"), std::string("Carrier said no"), "{}", 1});
  CHECK(r.next.error_message == std::string("Carrier said no"));
  auto u = apply_status(s, {"failed", std::string("39999"), {}, "{}", 1});
  CHECK(u.next.error_message == std::string("Error 39999"));
}

TEST_CASE("a delivered that arrives first sets sent_at and delivered_at together",
          "[status_machine]") {
  status_fields s;
  auto r = apply_status(s, {"delivered", {}, {}, "{}", 42});
  CHECK(r.next.sent_at == 42);
  CHECK(r.next.delivered_at == 42);
}

TEST_CASE("read applies only after delivered", "[status_machine]") {
  status_fields s;
  s = apply_status(s, {"sent", {}, {}, "{}", 1}).next;
  CHECK(apply_status(s, {"read", {}, {}, "{}", 2}).outcome == change_outcome::stale);
  auto delivered = apply_status(s, {"delivered", {}, {}, "{}", 3}).next;
  auto r = apply_status(delivered, {"read", {}, {}, "{}", 4});
  CHECK(r.outcome == change_outcome::applied);
  CHECK(r.next.status == "delivered");
  CHECK(r.next.status_rank == 5);
  CHECK(r.next.delivered_at == 3);
  auto failed = apply_status(s, {"failed", std::string("30008"), {}, "{}", 3}).next;
  CHECK(apply_status(failed, {"read", {}, {}, "{}", 4}).outcome == change_outcome::anomaly);
}

TEST_CASE("an unknown Twilio status changes nothing", "[status_machine]") {
  status_fields s;
  s = apply_status(s, {"sent", {}, {}, "{}", 1}).next;
  auto r = apply_status(s, {"teleported", {}, {}, "{}", 2});
  CHECK(r.outcome == change_outcome::unknown_status);
  CHECK(r.next.status == "sent");
  CHECK(r.next.status_updated_at == 1);
}

TEST_CASE("Twilio's statuses map onto ours with DESIGN's ranks", "[status_machine]") {
  struct row {
    const char* twilio;
    const char* ours;
    int rank;
  } rows[] = {{"accepted", "queued", 0},       {"scheduled", "queued", 0},
              {"queued", "queued", 1},         {"sending", "queued", 2},
              {"sent", "sent", 3},             {"delivered", "delivered", 4},
              {"undelivered", "undelivered", 4}, {"partially_delivered", "undelivered", 4},
              {"failed", "failed", 4},         {"canceled", "failed", 4},
              {"read", "delivered", 5},        {"DELIVERED", "delivered", 4}};
  for (auto& r : rows) {
    auto m = map_twilio_status(r.twilio);
    REQUIRE(m);
    CHECK(std::string(m->ours) == r.ours);
    CHECK(m->rank == r.rank);
  }
  CHECK_FALSE(map_twilio_status("receiving"));
}

TEST_CASE("a failure smsd itself decides keeps its message without a code", "[status_machine]") {
  status_fields s;
  auto r = apply_status(
    s, {"failed", std::nullopt, std::string("Twilio never accepted this message; it was not sent"),
        "{}", 1});
  CHECK(r.outcome == change_outcome::applied);
  CHECK_FALSE(r.next.error_code.has_value());
  CHECK(r.next.error_message == std::string("Twilio never accepted this message; it was not sent"));
  // A failure without message or code stores neither.
  auto bare = apply_status(status_fields{}, {"failed", std::nullopt, std::nullopt, "{}", 1});
  CHECK_FALSE(bare.next.error_message.has_value());
}
