#include "scheduling/pending_sweep.hpp"

#include <chrono>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace smsd {

pending_sweep_actor::behavior_type
pending_sweep_impl(pending_sweep_actor::stateful_pointer<pending_sweep_state> self,
                   std::string database_url, message_router* router, int interval_ms) {
  auto& st = self->state;
  st.database_url = std::move(database_url);
  st.router = router;
  st.interval_ms = interval_ms;
  return {
    [=](sweep_atom) {
      auto& st = self->state;
      if (!st.db) {
        if (auto s = open_store(st.database_url))
          st.db = std::move(*s);
        else
          spdlog::warn("pending sweep: {}", describe(s.error()));
      }
      if (st.db) {
        auto sids = st.db->matchable_pending_sids(1000);
        if (!sids) {
          spdlog::warn("pending sweep: {}", describe(sids.error()));
          st.db.reset();
        } else {
          for (auto& sid : *sids)
            st.router->sweep(sid);
        }
      }
      self->delayed_send(self, std::chrono::milliseconds(st.interval_ms), sweep_atom::value);
    },
  };
}

} // namespace smsd
