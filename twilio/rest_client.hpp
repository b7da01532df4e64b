#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace smsd::twilio {

/// A Message resource as Twilio's REST API returns it (TWILIO.md), read as it really is:
/// `error_code` an integer or null, `num_segments` a string, dates in RFC 2822.
struct message_resource {
  std::string sid;
  std::string account_sid;
  std::optional<std::string> messaging_service_sid;
  std::string to;
  std::string from; ///< empty when Twilio has not picked a sender yet (Messaging Service)
  std::string body;
  std::string status; ///< Twilio's word, lower case (accepted, queued, sent, ...)
  std::optional<int> error_code;
  std::optional<std::string> error_message;
  int num_segments = 1;
  std::optional<std::string> price;
  std::optional<millis> date_created;
  std::optional<millis> date_sent;
  std::optional<millis> date_updated;
  std::string raw_json; ///< the resource as received, for raw payloads and logs
};

/// Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", "status": 400}.
struct api_error {
  int http_status = 0;
  std::optional<int> code;
  std::string message;
  std::string more_info;
};

/// How a call ended.
enum class call_outcome {
  ok,          ///< Twilio answered 2xx; `value` holds the answer
  rejected,    ///< Twilio answered with a final error (a 4xx other than 429, or retries ran out
               ///< on 429/5xx); `error` holds its body. The request was not carried out.
  unavailable, ///< never reached Twilio (connect failures until retries ran out): not carried out
  unknown,     ///< the request went out and no answer came (read timeout, connection dropped):
               ///< Twilio may or may not have carried it out. Never retried for a create.
};

template <class T>
struct call_result {
  call_outcome outcome = call_outcome::unavailable;
  std::optional<T> value;         ///< when ok
  std::optional<api_error> error; ///< when rejected
  std::string detail;             ///< human-readable reason when not ok (no secrets)
  int attempts = 0;               ///< HTTP requests made, retries included
};

/// A create: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
struct create_message_request {
  std::string to;
  std::string body;
  std::optional<std::string> messaging_service_sid; ///< preferred over `from` when set
  std::optional<std::string> from;
  std::optional<std::string> status_callback;
};

/// A list: `GET .../Messages.json?To=...&DateSent>=...&PageSize=...`, following next_page_uri.
struct list_messages_query {
  std::optional<std::string> to;
  std::optional<millis> date_sent_after;  ///< DateSent>= (Twilio compares whole UTC days)
  std::optional<millis> date_sent_before; ///< DateSent<=
  int page_size = 50;
  int max_pages = 10;
};

struct rest_client_config {
  std::string base_url = "https://api.twilio.com"; ///< https:// (verified TLS) or http://
  std::string account_sid;
  std::string auth_token;
  int connect_timeout_ms = 10000;
  int read_timeout_ms = 15000;
  int max_concurrency = 8; ///< requests in flight at once; more wait for a slot
  int max_attempts = 5;    ///< per call, the first one included
  int backoff_initial_ms = 200;
  int backoff_max_ms = 10000; ///< also caps an honoured Retry-After
  std::optional<std::string> ca_file; ///< extra CA bundle; else the system's
};

/// What the sender and the reconciliation job need from Twilio. Implemented by rest_client;
/// tests may fake it.
class twilio_api {
public:
  virtual ~twilio_api() = default;
  virtual call_result<message_resource> create_message(const create_message_request& r) = 0;
  virtual call_result<message_resource> fetch_message(const std::string& sid) = 0;
  virtual call_result<std::vector<message_resource>> list_messages(const list_messages_query& q) = 0;
};

/// Twilio's REST API over HTTP(S) with Basic auth and kept-alive connections. Thread-safe: any
/// number of threads may call it; at most `max_concurrency` requests are in flight.
/// 429, 5xx and connection errors are retried with exponential backoff and full jitter, honouring
/// Retry-After, up to `max_attempts`; other 4xx are final. A create is retried only when Twilio
/// cannot have carried it out (connect failure, 429, 5xx); once it went out and no answer came, the
/// outcome is `unknown` and it is not sent again.
class rest_client final : public twilio_api {
public:
  explicit rest_client(rest_client_config cfg);
  ~rest_client() override;

  call_result<message_resource> create_message(const create_message_request& r) override;
  call_result<message_resource> fetch_message(const std::string& sid) override;
  call_result<std::vector<message_resource>> list_messages(const list_messages_query& q) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Parses a Message resource from Twilio's JSON; nullopt (and `why`) if it is not one.
std::optional<message_resource> parse_message_resource(const std::string& json, std::string* why = nullptr);

/// Parses Twilio's error body; a body that is not one gives {http_status, nullopt, <text>}.
api_error parse_api_error(int http_status, const std::string& body);

/// Parses an RFC 2822 date as Twilio writes it ("Thu, 30 Jul 2015 20:12:33 +0000").
std::optional<millis> parse_rfc2822(const std::string& text);

} // namespace smsd::twilio
