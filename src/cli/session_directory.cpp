#include "cli/session_directory.h"

#include <algorithm>
#include <set>

namespace xop {

void SessionDirectory::load_adverts() {
  if (adverts_loaded_) return;
  adverts_loaded_ = true;
  if (!c_.xis) return;
  auto r = c_.xis->adverts();
  if (!r) {
    notes_.push_back("XIS unreachable (" + r.error().message + "): using the endpoints cached in the home");
    return;
  }
  for (const auto& doc : *r) {
    auto a = verify_advert(doc);  // signed by the server it names: the endpoint is its own word
    if (!a) continue;
    auto& slot = adverts_[a->server];
    if (slot.server.empty() || a->issued_at > slot.issued_at) slot = std::move(*a);
  }
}

std::string SessionDirectory::endpoint_of(const std::string& server, const std::string& cached) {
  load_adverts();
  if (auto it = adverts_.find(server); it != adverts_.end() && !it->second.endpoint.empty()) return it->second.endpoint;
  return cached;
}

Result<ServerClient> SessionDirectory::server_client(const DeployedSession& d) {
  const std::string ep = endpoint_of(d.server, d.endpoint);
  if (ep.empty()) return make_error(ErrorCode::kUnavailable, "no known endpoint for server " + d.server);
  XOP_ASSIGN_OR_RETURN(auto server, ServerClient::connect(ep, c_.key));
  // Signed for the server the session was placed on, never for whatever the endpoint claims.
  if (!d.server.empty()) server.api().set_audience(d.server);
  return server;
}

ListingCompleteness SessionDirectory::completeness() const {
  if (corp_answered_ && servers_answered_ == servers_asked_) return ListingCompleteness::kComplete;
  if (!corp_answered_ && servers_answered_ == 0) return ListingCompleteness::kNothingAnswered;
  return ListingCompleteness::kPartial;
}

Result<std::vector<FoundSession>> SessionDirectory::list() {
  notes_.clear();
  corp_answered_ = false;
  servers_asked_ = 0;
  servers_answered_ = 0;
  XOP_ASSIGN_OR_RETURN(auto known, c_.home.load_sessions());
  // Every server that may hold a session of the user: the home's, and those of live POs.
  std::map<std::string, DeployedSession> servers;  // id -> name, city, cached endpoint
  for (const auto& d : known) {
    auto& s = servers[d.server];
    s.server = d.server;
    s.name = d.name;
    s.city = d.city;
    s.endpoint = d.endpoint;
  }
  const std::string me = c_.key.account_id();
  std::vector<std::pair<std::string, std::string>> open_pos;  // (po_id, server) still holding credits
  corp_answered_ = true;
  for (PoStatus state : {PoStatus::kOpen, PoStatus::kClosing}) {
    auto r = c_.corp->purchase_orders(me, state);
    if (!r) {
      notes_.push_back("corp unreachable (" + r.error().message + "): sessions not recorded here may be missing");
      corp_answered_ = false;
      break;
    }
    for (const auto& po : *r) {
      const std::string& id = po.server;
      if (!id.empty()) servers[id].server = id;
      if (state == PoStatus::kOpen) open_pos.emplace_back(po.po_id, id);
    }
  }
  load_adverts();
  // One listing per server.
  std::map<std::string, Result<std::vector<SessionInfo>>> listings;
  for (auto& [id, s] : servers) {
    if (auto it = adverts_.find(id); it != adverts_.end()) {
      if (s.name.empty()) s.name = it->second.name;
      if (s.city.empty()) s.city = it->second.city;
    }
    if (s.name.empty()) s.name = id.substr(0, 12);
    ++servers_asked_;
    auto client = server_client(s);
    if (!client) {
      listings.emplace(id, tl::make_unexpected(client.error()));
      continue;
    }
    auto listing = client->sessions();
    if (listing) ++servers_answered_;
    listings.emplace(id, std::move(listing));
  }
  std::vector<FoundSession> out;
  std::set<std::string> seen;
  auto find_live = [&](const std::string& server, const std::string& session) -> std::optional<SessionInfo> {
    const auto& l = listings.at(server);
    if (!l) return std::nullopt;
    for (const auto& s : *l) {
      if (s.id == session) return s;
    }
    return std::nullopt;
  };
  for (const auto& d : known) {
    FoundSession f{d, true, std::nullopt, ""};
    seen.insert(d.session);
    const auto& l = listings.at(d.server);
    if (!l) {
      f.error = l.error().message;
    } else if (auto s = find_live(d.server, d.session)) {
      f.live = std::move(*s);
    } else {
      f.error = "not found on " + d.name;
    }
    out.push_back(std::move(f));
  }
  for (const auto& entry : listings) {
    const std::string& id = entry.first;  // not a structured binding: clang 14 cannot capture one
    const auto& l = entry.second;
    if (!l) {
      if (!std::any_of(known.begin(), known.end(), [&](const auto& d) { return d.server == id; })) {
        notes_.push_back("server " + servers[id].name + " unreachable: " + l.error().message);
      }
      continue;
    }
    for (const auto& s : *l) {
      const std::string& sid = s.id;
      if (sid.empty() || seen.count(sid) || s.state == "stopped") continue;
      seen.insert(sid);
      const auto& srv = servers[id];
      DeployedSession d{sid, id, srv.name, srv.city, endpoint_of(id, srv.endpoint), s.po_id, s.spec.value("name", "")};
      out.push_back(FoundSession{std::move(d), false, s, ""});
    }
  }
  // An open PO no session on a reachable server uses (e.g. a deploy killed between buying and
  // starting): it holds credits until it expires or is closed.
  for (const auto& [po, server] : open_pos) {
    const auto& l = listings.at(server);
    if (!l) continue;
    bool used = false;
    for (const auto& s : *l) used = used || s.po_id == po;
    if (!used) {
      notes_.push_back("purchase order " + po + " on " + servers[server].name +
                       " has no session; its hold returns to you when it expires");
    }
  }
  return out;
}

}  // namespace xop
