// The standard keymanager API, /eth/v1/keystores (keymanager-APIs apis/local_keystores.yaml), behind its bearer
// token. POST and DELETE run on the import pool, never on an I/O thread: parsing a large body, the slashing database
// import or export, decryption (in parallel, at a lower priority than signing) and file writes all block, and below
// eight cores there is one I/O thread that every sign request needs.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cachet/slashing/interchange.hpp>
#include <memory>
#include <mutex>

#include "server/api.hpp"
#include "server/api_token.hpp"
#include "server/commit_boost_handler.hpp"
#include "server/keymanager_request.hpp"

namespace cachet::server {
namespace {

namespace json = boost::json;

std::string_view to_string(keys::ImportResult::Status s) {
  switch (s) {
    case keys::ImportResult::Status::Imported:
      return "imported";
    case keys::ImportResult::Status::Duplicate:
      return "duplicate";
    case keys::ImportResult::Status::Error:
      break;
  }
  return "error";
}

std::string_view to_string(keys::DeleteResult::Status s) {
  switch (s) {
    case keys::DeleteResult::Status::Deleted:
      return "deleted";
    case keys::DeleteResult::Status::NotFound:
      return "not_found";
    case keys::DeleteResult::Status::Error:
      break;
  }
  return "error";
}

Response list_keys(const SignerContext& context) {
  json::array data;
  for (const auto& key : context.keys.list()) {
    data.push_back(json::object{{"validating_pubkey", to_hex(key->pubkey)},
                                {"derivation_path", key->derivation_path},
                                {"readonly", key->readonly()}});
  }
  return json_response(http::status::ok, json::serialize(json::object{{"data", std::move(data)}}));
}

// Shared by the import jobs of one request; the last one to finish answers.
struct ImportBatch {
  std::vector<std::string> keystores, passwords;
  std::vector<keys::ImportResult> results;
  std::atomic<std::size_t> remaining;
  Reply reply;

  ~ImportBatch() {
    for (auto& p : passwords) secure_wipe(p.data(), p.size());
  }
};

// The request body and its parse hold every password of an import: wiped when the request is done with, on every
// path (keystores themselves are encrypted; the passwords array is what matters, but the whole body is cheap).
struct WipeRequest {
  Request& request;
  json::object* body = nullptr;
  ~WipeRequest() {
    if (body) wipe_passwords(*body);
    secure_wipe(request.body().data(), request.body().size());
  }
};

void finish_import(SignerContext& context, ImportBatch& batch) {
  json::array data;
  std::size_t imported = 0;
  for (const auto& r : batch.results) {
    json::object o{{"status", to_string(r.status)}};
    if (r.status == keys::ImportResult::Status::Error) {
      o["message"] = r.message;
      context.metrics.key_load_failures.inc();
    }
    if (r.status == keys::ImportResult::Status::Imported) ++imported;
    data.push_back(std::move(o));
  }
  context.refresh_key_gauges();
  spdlog::info("keymanager import: {} keystores, {} imported", batch.results.size(), imported);
  // The cache gets the new keys now (one KDF for the batch), so a restart does not decrypt them again.
  if (imported > 0)
    if (auto saved = context.key_service->save_cache(); !saved)
      spdlog::error("key cache: cannot be written: {}", saved.error());
  batch.reply(json_response(http::status::ok, json::serialize(json::object{{"data", std::move(data)}})));
}

void import_keys(SignerContext& context, Request&& request, Reply reply) {
  auto body = parse_keymanager_body(request.body());
  WipeRequest wipe{request, body ? &*body : nullptr};  // after `body`, so it runs before `body` is destroyed
  if (!body) return reply(error_response(http::status::bad_request, body.error()));
  auto parsed = parse_import_request(*body);  // its passwords are wiped with it, or moved into the batch
  if (!parsed) return reply(error_response(http::status::bad_request, parsed.error()));
  auto& keystores = parsed->keystores;
  auto& passwords = parsed->passwords;
  const auto& interchange = parsed->slashing_protection;
  // The history is applied before any of the keys can sign (keys activate only after their decryption below).
  // All of it is imported, not only the entries of these keystores: more history can only refuse more.
  if (interchange && context.slashing) {
    auto imported = context.slashing->import_interchange(*interchange);
    if (!imported) {
      json::array data;
      for (std::size_t i = 0; i < keystores.size(); ++i)
        data.push_back(
            json::object{{"status", "error"},
                         {"message", "slashing_protection not applied, key not imported: " + imported.error()}});
      spdlog::warn("keymanager import refused: slashing_protection: {}", imported.error());
      return reply(json_response(http::status::ok, json::serialize(json::object{{"data", std::move(data)}})));
    }
    spdlog::info("keymanager import: slashing history of {} validators applied ({} blocks, {} attestations)",
                 imported->validators, imported->blocks, imported->attestations);
  }
  if (keystores.empty()) return reply(json_response(http::status::ok, R"({"data":[]})"));

  auto batch = std::make_shared<ImportBatch>();
  batch->keystores = std::move(keystores);
  batch->passwords = std::move(passwords);
  batch->results.resize(batch->keystores.size(), {keys::ImportResult::Status::Error, "not processed", {}});
  batch->remaining = batch->keystores.size();
  batch->reply = std::move(reply);
  for (std::size_t i = 0; i < batch->keystores.size(); ++i) {
    auto job = [&context, batch, i] {
      batch->results[i] = context.key_service->import(batch->keystores[i], batch->passwords[i]);
      if (batch->remaining.fetch_sub(1) == 1) finish_import(context, *batch);
    };
    if (!context.import_pool->try_post(std::move(job))) {
      batch->results[i] = {keys::ImportResult::Status::Error, "import queue full; retry later", {}};
      if (batch->remaining.fetch_sub(1) == 1) finish_import(context, *batch);
    }
  }
}

void delete_keys(SignerContext& context, Request&& request, Reply reply) {
  auto body = parse_keymanager_body(request.body());
  if (!body) return reply(error_response(http::status::bad_request, body.error()));
  auto pubkeys = parse_delete_request(*body);
  if (!pubkeys) return reply(error_response(http::status::bad_request, pubkeys.error()));
  const std::vector<crypto::PublicKey>& parsed = *pubkeys;
  std::vector<keys::DeleteResult> results;
  std::vector<crypto::PublicKey> inactive_or_deleted;
  for (const auto& pk : parsed) {
    // Stops the key signing first (keymanager-APIs: "guarantee that key(s) can not produce any more signature;
    // only then ... serialize its associated slashing protection data").
    results.push_back(context.key_service->remove(pk));
    if (results.back().status != keys::DeleteResult::Status::Error) inactive_or_deleted.push_back(pk);
    if (results.back().status == keys::DeleteResult::Status::Deleted && context.commit_boost)
      results.back().message = delete_commit_boost_proxies(*context.commit_boost, pk);
  }
  context.refresh_key_gauges();
  // A deleted key is gone from the key cache before DELETE answers.
  if (std::ranges::any_of(results, [](const auto& r) { return r.status == keys::DeleteResult::Status::Deleted; }))
    if (auto saved = context.key_service->save_cache(); !saved) {
      spdlog::error("key cache: cannot be written: {}", saved.error());
      return reply(error_response(http::status::service_unavailable,
                                  "keys stopped and their files removed, but the key cache could not be rewritten; "
                                  "retry"));
    }

  slashing::Interchange history;  // zero genesis root and no data when protection is off
  if (context.slashing && !inactive_or_deleted.empty()) {
    auto exported = context.slashing->export_interchange(inactive_or_deleted);
    if (!exported) {
      // The keys are stopped and their history stays in the database: a retry returns it (as not_active).
      spdlog::error("keymanager delete: slashing protection export failed: {}", exported.error());
      return reply(error_response(http::status::service_unavailable,
                                  "keys stopped, but their slashing protection history could not be read; retry "
                                  "(the history is kept and will be returned)"));
    }
    history = std::move(*exported);
  }
  json::array data;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto& r = results[i];
    std::string_view status = to_string(r.status);
    // A key not loaded here but with history in the database: its data is returned (keymanager-APIs "not_active").
    if (r.status == keys::DeleteResult::Status::NotFound &&
        std::ranges::any_of(history.data, [&](const auto& v) { return v.pubkey == parsed[i]; }))
      status = "not_active";
    json::object o{{"status", status}};
    if (!r.message.empty()) o["message"] = r.message;
    data.push_back(std::move(o));
  }
  // A deleted key with nothing recorded (it signed no block or attestation) still gets its entry.
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (results[i].status == keys::DeleteResult::Status::Deleted &&
        std::ranges::none_of(history.data, [&](const auto& v) { return v.pubkey == parsed[i]; }))
      history.data.push_back({parsed[i], {}, {}});
  }
  // Only keys answered deleted or not_active carry history (keymanager-APIs DELETE).
  std::erase_if(history.data, [&](const slashing::ValidatorHistory& v) {
    for (std::size_t i = 0; i < parsed.size(); ++i)
      if (parsed[i] == v.pubkey) return results[i].status == keys::DeleteResult::Status::Error;
    return true;
  });
  reply(json_response(http::status::ok, json::serialize(json::object{
                                            {"data", std::move(data)},
                                            {"slashing_protection", slashing::serialize_interchange(history)}})));
}

struct KeymanagerJob {
  SignerContext& context;
  Request request;
  Reply reply;
  void (*handler)(SignerContext&, Request&&, Reply);
  void operator()() { handler(context, std::move(request), std::move(reply)); }
};

}  // namespace

std::optional<Response> refuse_without_token(const Request& request, std::string_view token) {
  switch (check_bearer(request[http::field::authorization], token)) {
    case AuthResult::Missing:
      return error_response(http::status::unauthorized, "missing bearer token (Authorization: Bearer ...)");
    case AuthResult::Wrong:
      spdlog::info("refused a request with a wrong bearer token (403)");
      return error_response(http::status::forbidden, "invalid bearer token");
    case AuthResult::Ok:
      break;
  }
  return std::nullopt;
}

void handle_keystores(SignerContext& context, Request&& request, Reply reply) {
  if (!context.managed) return reply(error_response(http::status::not_found, "the keymanager API is disabled"));
  if (auto refused = refuse_without_token(request, context.api_token)) return reply(std::move(*refused));
  switch (request.method()) {
    case http::verb::get:
      return reply(list_keys(context));
    case http::verb::post:
    case http::verb::delete_: {
      auto* handler = request.method() == http::verb::post ? &import_keys : &delete_keys;
      KeymanagerJob job{context, std::move(request), std::move(reply), handler};
      if (!context.import_pool->try_post(std::move(job))) {
        secure_wipe(job.request.body().data(), job.request.body().size());
        return job.reply(error_response(http::status::service_unavailable, "busy; retry later"));
      }
      return;
    }
    default: {
      auto r = error_response(http::status::method_not_allowed, "method not allowed");
      r.headers.emplace_back(http::field::allow, "GET, POST, DELETE");
      return reply(std::move(r));
    }
  }
}

}  // namespace cachet::server
