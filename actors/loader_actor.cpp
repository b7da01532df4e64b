#include "actors/loader_actor.hpp"

#include "common/errors.hpp"

namespace smsd {

namespace {

// The connection, opening it if needed; nullptr with `err` set when the database is unreachable.
store* connection(loader_state& st, caf::error& err) {
  if (!st.db) {
    auto s = open_store(st.database_url);
    if (!s) {
      err = s.error();
      return nullptr;
    }
    st.db = std::move(*s);
  }
  return st.db.get();
}

// Forget a connection that failed with `unavailable`, so the next request reconnects.
void drop_if_unavailable(loader_state& st, const caf::error& e) {
  if (code_of(e) == errc::unavailable)
    st.db.reset();
}

} // namespace

loader_actor::behavior_type loader_impl(loader_actor::stateful_pointer<loader_state> self,
                                        std::string database_url) {
  self->state.database_url = std::move(database_url);
  return {
    [=](load_atom, const message_key& key) -> caf::result<loaded_state> {
      auto& st = self->state;
      caf::error err;
      auto db = connection(st, err);
      if (!db)
        return err;
      auto row = key.kind == message_key::by_id ? db->find_message_by_id(key.value)
                                                : db->find_message_by_sid(key.value);
      if (!row) {
        drop_if_unavailable(st, row.error());
        return row.error();
      }
      loaded_state out;
      out.row = std::move(*row);
      std::optional<std::string> sid;
      if (out.row)
        sid = out.row->message_sid;
      else if (key.kind == message_key::by_sid)
        sid = key.value;
      if (sid) {
        auto pending = db->pending_events(*sid);
        if (!pending) {
          drop_if_unavailable(st, pending.error());
          return pending.error();
        }
        out.pending = std::move(*pending);
      }
      return out;
    },
    [=](pending_atom, const std::string& sid) -> caf::result<std::vector<status_event_record>> {
      auto& st = self->state;
      caf::error err;
      auto db = connection(st, err);
      if (!db)
        return err;
      auto pending = db->pending_events(sid);
      if (!pending) {
        drop_if_unavailable(st, pending.error());
        return pending.error();
      }
      return std::move(*pending);
    },
  };
}

} // namespace smsd
