// Where the user's sessions are, with the platform as the source of truth and the home as a
// cache: the servers holding the user's open (or closing) purchase orders at the corp, plus the
// servers the home recorded; each server's session API says what runs there. Servers are
// addressed by identity: a server id is resolved to its current endpoint through XIS (its signed
// advert) whenever the CLI acts on it, falling back to the endpoint cached in the home.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/client_context.h"
#include "client/server_client.h"
#include "proto/advert.h"

namespace xop {

struct FoundSession {
  DeployedSession where;            // from the home, or built from what the platform said
  bool recorded = false;            // the home has a record of it
  std::optional<SessionInfo> live;  // the server's view of it (ServerClient::sessions)
  std::string error;                // why the server could not say (live is then empty)
};

// How much of the platform answered the last list(): everything (the corp and every server
// that may hold a session), some of it, or none of it (the listing is only the home's cache).
enum class ListingCompleteness { kComplete, kPartial, kNothingAnswered };

class SessionDirectory {
 public:
  explicit SessionDirectory(const ClientContext& c) : c_(c) {}

  // The home's sessions, then the ones found only on the platform (not stopped ones). Fails only
  // when the home cannot be read; an unreachable corp or server becomes a note or an error.
  Result<std::vector<FoundSession>> list();
  // The current endpoint of `server` (XIS's signed advert), else `cached`.
  std::string endpoint_of(const std::string& server, const std::string& cached);
  // A client for the server `d` runs on, signed for that server's identity.
  Result<ServerClient> server_client(const DeployedSession& d);

  // What the last list() could not find out (e.g. the corp was unreachable).
  [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }
  [[nodiscard]] ListingCompleteness completeness() const;

 private:
  void load_adverts();
  const ClientContext& c_;
  bool adverts_loaded_ = false;
  std::map<std::string, Advert> adverts_;  // by server id, verified
  std::vector<std::string> notes_;
  bool corp_answered_ = false;
  size_t servers_asked_ = 0;
  size_t servers_answered_ = 0;
};

}  // namespace xop
