#include "server/server_api.h"

#include <algorithm>

#include "crypto/digest.h"
#include "net/auth.h"
#include "proto/blob_grant.h"
#include "proto/server_answers.h"

namespace xop {

Json to_json(const SessionView& v) {
  const auto& r = v.row;
  SessionInfo info{r.id,
                   r.user,
                   r.po_id,
                   r.state,
                   r.reason,
                   r.created_at,
                   r.started_at,
                   r.stopped_at,
                   r.spec,
                   r.last_seq,
                   v.metered,
                   v.memory_bytes,
                   v.claimed.micros(),
                   r.exit_code ? std::optional<int64_t>(*r.exit_code) : std::nullopt,
                   r.exit_reason,
                   v.low_funds,
                   r.frozen_until,
                   std::nullopt};
  if (!v.address.empty()) {
    SessionNetworkInfo n;
    n.address = v.address;
    for (const auto& e : v.endpoints) {
      n.endpoints.push_back(
          SessionEndpointInfo{e.port.name, e.port.protocol, e.port.port, e.port.host_port, e.endpoint});
    }
    info.network = std::move(n);
  }
  return to_json(info);
}

std::shared_ptr<Router> make_server_api(ServerApiDeps d) {
  auto router = std::make_shared<Router>();
  router->set_verifier(d.verifier);
  auto caller = [d](const HttpRequest& req) -> Result<std::string> {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(*d.verifier, req));
    return key.account_id();
  };

  router->add("GET", "/v1/info", [d](const HttpRequest&, const PathParams&) { return json_response(200, d.info()); });

  // Who may read a blob: anyone when it is public; otherwise a signed request from one of its
  // owners, or from a peer server presenting an owner's grant. A stranger gets 401 unsigned and
  // 404 signed, exactly as for a blob that does not exist.
  router->add(
      "GET", "/v1/blobs/{digest}",
      [d](const HttpRequest& req, const PathParams& p) {
        const auto& digest = p.at("digest");
        if (!is_oci_digest(digest)) return error_response(ErrorCode::kInvalidArgument, "not a sha256 digest");
        if (!d.images->is_public(digest)) {
          if (req.header(kHeaderKey).empty()) {
            return error_response(ErrorCode::kUnauthenticated,
                                  "blobs are served to their owners: sign the request (or present a grant as a peer)");
          }
          auto key = authenticate(*d.verifier, req);
          if (!key) return error_response(key.error());
          const std::string who = key->account_id();
          if (!d.images->is_owner(who, digest)) {
            const std::string grant = req.header(kHeaderGrant);
            if (grant.empty()) return error_response(ErrorCode::kNotFound, "no such blob: " + digest);
            const Clock& clock = d.clock != nullptr ? *d.clock : SystemClock::instance();
            auto user = check_blob_grant(grant, who, digest, clock.now_ms());
            if (!user) return error_response(user.error());
            if (!d.images->is_owner(*user, digest))
              return error_response(ErrorCode::kNotFound, "no such blob: " + digest);
          }
        }
        auto file = d.images->blob_file(digest);
        if (!file) return error_response(ErrorCode::kNotFound, "no such blob: " + digest);
        HttpResponse r;
        r.content_type = "application/octet-stream";
        r.headers["Docker-Content-Digest"] = digest;
        r.body_file = std::move(*file);  // streamed from disk: a blob is never held in memory
        return r;
      },
      0, Access::kOptional);

  router->add(
      "PUT", "/v1/blobs/{digest}",
      [d, caller](const HttpRequest& req, const PathParams& p) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        const auto& digest = p.at("digest");
        if (!is_oci_digest(digest)) return error_response(ErrorCode::kInvalidArgument, "not a sha256 digest");
        // The body was streamed to a spool file (or, for an empty body, is in memory).
        const uint64_t size = req.body_file.empty() ? req.body.size() : req.body_size;
        // 200 only when the caller already owns it: whether someone else stored it is not told.
        if (d.images->is_owner(*who, digest)) return json_response(200, Json{{"digest", digest}, {"size", size}});
        auto st = req.body_file.empty() ? d.images->put_blob(*who, digest, req.body)
                                        : d.images->put_blob_file(*who, digest, req.body_file);
        if (!st) return error_response(st.error());
        return json_response(201, Json{{"digest", digest}, {"size", size}});
      },
      kMaxBlobBytes, Access::kSigned, kSpoolBody);

  // An owner of every blob of an image marks it public (anyone may then download its blobs and run
  // it) or takes back their mark.
  for (const char* method : {"PUT", "DELETE"}) {
    const bool make_public = std::string_view(method) == "PUT";
    router->add(
        method, "/v1/images/{digest}/public",
        [d, caller, make_public](const HttpRequest& req, const PathParams& p) {
          auto who = caller(req);
          if (!who) return error_response(who.error());
          const auto& digest = p.at("digest");
          if (!is_oci_digest(digest)) return error_response(ErrorCode::kInvalidArgument, "not a sha256 digest");
          auto st = d.images->set_public(*who, digest, make_public);
          if (!st) return error_response(st.error());
          return json_response(200, Json{{"image", digest}, {"public", d.images->is_public(digest)}});
        },
        kDefaultMaxBody, Access::kSigned);
  }

  router->add(
      "POST", "/v1/sessions",
      [d, caller](const HttpRequest& req, const PathParams&) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        auto body = json_body(req);
        if (!body) return error_response(body.error());
        auto create = create_session_request_from_json(*body);
        if (!create) return error_response(create.error());
        // Running an image reads it: only the owners of its blobs may, unless it is public; a blob
        // that is not the caller's is reported as missing.
        if (auto usable = d.images->check_use(*who, create->spec.image); !usable) return error_response(usable.error());
        auto v = d.sessions->create(*who, *create);
        if (!v) return error_response(v.error());
        return json_response(201, Json{{"session", to_json(*v)}});
      },
      kDefaultMaxBody, Access::kSigned);

  // The owner's view (xop server status): signed by the owner or the server key, else 403.
  router->add(
      "GET", "/v1/status",
      [d, caller](const HttpRequest& req, const PathParams&) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        if (!d.status) return error_response(ErrorCode::kNotFound, "no status here");
        auto s = d.status(*who);
        if (!s) return error_response(s.error());
        return json_response(200, *s);
      },
      kDefaultMaxBody, Access::kSigned);

  router->add(
      "GET", "/v1/sessions",
      [d, caller](const HttpRequest& req, const PathParams&) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        auto list = d.sessions->list(*who);
        if (!list) return error_response(list.error());
        Json arr = Json::array();
        for (const auto& v : *list) arr.push_back(to_json(v));
        return json_response(200, Json{{"sessions", std::move(arr)}});
      },
      kDefaultMaxBody, Access::kSigned);

  router->add(
      "GET", "/v1/sessions/{id}",
      [d, caller](const HttpRequest& req, const PathParams& p) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        auto v = d.sessions->get(*who, p.at("id"));
        if (!v) return error_response(v.error());
        return json_response(200, Json{{"session", to_json(*v)}});
      },
      kDefaultMaxBody, Access::kSigned);

  router->add(
      "DELETE", "/v1/sessions/{id}",
      [d, caller](const HttpRequest& req, const PathParams& p) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        auto v = d.sessions->stop(*who, p.at("id"), "stopped by the user");
        // The server's owner evicts any session of its server (its user still pays up to now).
        if (!v && v.error().code == ErrorCode::kNotFound &&
            std::find(d.evictors.begin(), d.evictors.end(), *who) != d.evictors.end()) {
          v = d.sessions->stop("", p.at("id"), "evicted by the server's owner", StopCause::kEvicted);
        }
        if (!v) return error_response(v.error());
        return json_response(200, Json{{"session", to_json(*v)}});
      },
      kDefaultMaxBody, Access::kSigned);

  router->add(
      "GET", "/v1/sessions/{id}/logs",
      [d, caller](const HttpRequest& req, const PathParams& p) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        auto logs = d.sessions->logs(*who, p.at("id"), size_t{64} * 1024);
        if (!logs) return error_response(logs.error());
        return json_response(200, logs_answer_json(*logs));
      },
      kDefaultMaxBody, Access::kSigned);

  return router;
}

}  // namespace xop
