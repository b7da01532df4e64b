#include "scheduling/pending_sweep.hpp"

#include <chrono>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace smsd {

pending_sweep_actor::behavior_type
pending_sweep_impl(pending_sweep_actor::stateful_pointer<pending_sweep_state> self,
                   std::shared_ptr<store_worker> worker, message_router* router, int interval_ms) {
  auto& st = self->state;
  st.worker = std::move(worker);
  st.router = router;
  st.interval_ms = interval_ms;
  return {
    [=](sweep_atom) {
      auto& st = self->state;
      if (!st.busy->exchange(true)) {
        st.worker->run([router = st.router, busy = st.busy](caf::expected<store*> db) {
          if (!db) {
            spdlog::warn("pending sweep: {}", describe(db.error()));
          } else if (auto sids = (*db)->matchable_pending_sids(1000); !sids) {
            spdlog::warn("pending sweep: {}", describe(sids.error()));
          } else {
            for (auto& sid : *sids)
              router->sweep(sid);
          }
          busy->store(false);
        });
      }
      self->delayed_send(self, std::chrono::milliseconds(st.interval_ms), sweep_atom::value);
    },
  };
}

} // namespace smsd
