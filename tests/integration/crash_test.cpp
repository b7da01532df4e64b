// Signed callbacks under load while smsd is killed with SIGKILL and restarted, again and again.
// Every callback that got a 200 must be in the database afterwards: a 200 means durable.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/process_env.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("every callback acknowledged before a SIGKILL is in the database",
          "[integration][slow][crash]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    auto url = database_url_of(dialect);
    auto db = seeded_store(url);
    const int messages = 400;
    std::vector<std::pair<std::string, std::string>> work; // (sid, status)
    for (int i = 0; i < messages; ++i)
      seed_message(*db, "m" + std::to_string(i), "SMcrash" + std::to_string(i));
    for (auto status : {"queued", "sent", "delivered"})
      for (int i = 0; i < messages; ++i)
        work.emplace_back("SMcrash" + std::to_string(i), status);

    const auto port = free_port();
    auto proc = std::make_unique<smsd_process>(child_env(url, port));
    std::mutex mtx;
    std::set<std::pair<std::string, std::string>> acked;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    auto client = [&] {
      // Like Twilio: post each callback until it is acknowledged.
      for (std::size_t i; !stop && (i = next++) < work.size();) {
        while (!stop) {
          if (post_callback(port, work[i].first, work[i].second, "", 3000) == 200) {
            std::lock_guard<std::mutex> guard{mtx};
            acked.insert(work[i]);
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    };
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i)
      clients.emplace_back(client);
    int kills = 0;
    for (; kills < 4; ++kills) {
      // Let some traffic through, then crash in the middle of it.
      auto before = [&] {
        std::lock_guard<std::mutex> guard{mtx};
        return acked.size();
      }();
      eventually([&] {
        std::lock_guard<std::mutex> guard{mtx};
        return acked.size() >= before + 150;
      }, std::chrono::seconds(20));
      proc->kill9();
      proc.reset();
      proc = std::make_unique<smsd_process>(child_env(url, port));
    }
    eventually([&] {
      std::lock_guard<std::mutex> guard{mtx};
      return acked.size() == work.size();
    }, std::chrono::seconds(60));
    stop = true;
    for (auto& t : clients)
      t.join();
    CHECK(proc->stop() == 0);

    std::size_t stored = 0;
    for (auto& [sid, status] : acked) {
      auto t = db->timeline(sid);
      REQUIRE(t);
      REQUIRE(*t);
      for (auto& e : (*t)->events)
        if (e.provider_status == status) {
          ++stored;
          break;
        }
    }
    const std::size_t lost = acked.size() - stored;
    WARN(dialect << ": " << kills << " SIGKILLs; acknowledged " << acked.size() << ", stored "
                 << stored << ", lost " << lost);
    CHECK(kills == 4);
    CHECK(acked.size() == work.size());
    CHECK(lost == 0);
    // And the rows are right: every message ends delivered.
    for (int i = 0; i < messages; i += 37) {
      auto m = db->find_message_by_id("m" + std::to_string(i));
      REQUIRE(m);
      CHECK((*m)->state.status == "delivered");
    }
  }
}
