#include "server/server_api.h"

#include "crypto/digest.h"
#include "net/auth.h"

namespace xop {

Json to_json(const SessionView& v) {
  const auto& r = v.row;
  Json j{{"id", r.id},
         {"user", r.user},
         {"po_id", r.po_id},
         {"state", r.state},
         {"reason", r.reason},
         {"created_at", r.created_at},
         {"started_at", r.started_at},
         {"stopped_at", r.stopped_at},
         {"spec", r.spec},
         {"records", r.last_seq},
         {"usage", to_json(v.metered)},
         {"memory_bytes", v.memory_bytes},
         {"claimed", v.claimed.micros()}};
  j["exit_code"] = r.exit_code ? Json(*r.exit_code) : Json(nullptr);
  j["exit_reason"] = r.exit_reason;
  return j;
}

std::shared_ptr<Router> make_server_api(ServerApiDeps d) {
  auto router = std::make_shared<Router>();
  auto caller = [d](const HttpRequest& req) -> Result<std::string> {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(*d.verifier, req));
    return key.account_id();
  };

  router->add("GET", "/v1/info", [d](const HttpRequest&, const PathParams&) { return json_response(200, d.info()); });

  router->add("GET", "/v1/blobs/{digest}", [d](const HttpRequest&, const PathParams& p) {
    const auto& digest = p.at("digest");
    if (!is_oci_digest(digest)) return error_response(ErrorCode::kInvalidArgument, "not a sha256 digest");
    auto blob = d.images->read_blob(digest);
    if (!blob) return error_response(ErrorCode::kNotFound, "no such blob: " + digest);
    HttpResponse r;
    r.content_type = "application/octet-stream";
    r.headers["Docker-Content-Digest"] = digest;
    r.body = std::move(*blob);
    return r;
  });

  router->add(
      "PUT", "/v1/blobs/{digest}",
      [d, caller](const HttpRequest& req, const PathParams& p) {
        auto who = caller(req);
        if (!who) return error_response(who.error());
        const auto& digest = p.at("digest");
        if (!is_oci_digest(digest)) return error_response(ErrorCode::kInvalidArgument, "not a sha256 digest");
        if (d.images->has_blob(digest)) return json_response(200, Json{{"digest", digest}, {"size", req.body.size()}});
        auto st = d.images->put_blob(digest, req.body);
        if (!st) return error_response(st.error());
        return json_response(201, Json{{"digest", digest}, {"size", req.body.size()}});
      },
      kMaxBlobBytes);

  router->add("POST", "/v1/sessions", [d, caller](const HttpRequest& req, const PathParams&) {
    auto who = caller(req);
    if (!who) return error_response(who.error());
    auto body = json_body(req);
    if (!body) return error_response(body.error());
    auto create = create_session_request_from_json(*body);
    if (!create) return error_response(create.error());
    auto v = d.sessions->create(*who, *create);
    if (!v) return error_response(v.error());
    return json_response(201, Json{{"session", to_json(*v)}});
  });

  router->add("GET", "/v1/sessions", [d, caller](const HttpRequest& req, const PathParams&) {
    auto who = caller(req);
    if (!who) return error_response(who.error());
    auto list = d.sessions->list(*who);
    if (!list) return error_response(list.error());
    Json arr = Json::array();
    for (const auto& v : *list) arr.push_back(to_json(v));
    return json_response(200, Json{{"sessions", std::move(arr)}});
  });

  router->add("GET", "/v1/sessions/{id}", [d, caller](const HttpRequest& req, const PathParams& p) {
    auto who = caller(req);
    if (!who) return error_response(who.error());
    auto v = d.sessions->get(*who, p.at("id"));
    if (!v) return error_response(v.error());
    return json_response(200, Json{{"session", to_json(*v)}});
  });

  router->add("DELETE", "/v1/sessions/{id}", [d, caller](const HttpRequest& req, const PathParams& p) {
    auto who = caller(req);
    if (!who) return error_response(who.error());
    auto v = d.sessions->stop(*who, p.at("id"), "stopped by the user");
    if (!v) return error_response(v.error());
    return json_response(200, Json{{"session", to_json(*v)}});
  });

  router->add("GET", "/v1/sessions/{id}/logs", [d, caller](const HttpRequest& req, const PathParams& p) {
    auto who = caller(req);
    if (!who) return error_response(who.error());
    auto logs = d.sessions->logs(*who, p.at("id"), size_t{64} * 1024);
    if (!logs) return error_response(logs.error());
    return json_response(200, Json{{"logs", *logs}});
  });

  return router;
}

}  // namespace xop
