#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smsd {

/// A request's header fields in the order received. Names compare case-insensitively; a name
/// may occur more than once (find() gives the first).
class header_fields {
public:
  void add(std::string name, std::string value);
  /// Replaces every field of this name with one (tests build requests with it).
  void set(std::string name, std::string value);

  /// The first value of `name`, or nullptr.
  const std::string* find(std::string_view name) const;

  bool has(std::string_view name) const { return find(name) != nullptr; }

  std::size_t size() const { return fields_.size(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

/// ASCII case-insensitive equality (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

/// Bounds on a request's head (request line and header fields).
struct head_limits {
  std::size_t max_request_line = 16 * 1024; ///< longer: 414
  std::size_t max_head = 64 * 1024;         ///< request line and fields together; longer: 431
  std::size_t max_field = 8 * 1024;         ///< one header field line; longer: 431
  std::size_t max_fields = 100;             ///< more: 431
};

/// The request line and header fields of one HTTP/1.x request.
struct request_head {
  std::string method;
  std::string target;
  int minor_version = 1; ///< HTTP/1.0 or HTTP/1.1
  header_fields headers;
};

/// What parse_head found at the start of a buffer.
struct head_parse {
  enum class state { incomplete, complete, invalid };
  state result = state::incomplete;
  std::size_t consumed = 0; ///< complete: bytes of the head, blank line included
  int status = 0;           ///< invalid: the 4xx/5xx to answer with
  std::string error;        ///< invalid: why, for the answer's body
};

/// Parses a request head (RFC 9112 §2–5) from the start of `in`. Empty lines before the
/// request line are skipped; lines may end in CRLF or a bare LF. Strict otherwise: a method
/// of token characters, a target without spaces or control characters, HTTP/1.0 or HTTP/1.1
/// (another version is 505), field names of token characters directly followed by ':', no
/// obsolete line folding. `incomplete` means more bytes are needed; the caller enforces
/// max_head on what it buffers by calling again with more, which turns into 414/431 here.
head_parse parse_head(std::string_view in, const head_limits& limits, request_head& out);

/// The same checks as parse_head, building nothing: the event server runs them on the raw bytes
/// before Poco::Net::HTTPRequest, which is more lenient, tokenises the head.
head_parse check_head(std::string_view in, const head_limits& limits);

/// Finds the end of a request head (the blank line after the fields) incrementally, so that a
/// head arriving a few bytes at a time is scanned once, not once per arrival.
class head_scanner {
public:
  /// Looks at what `in` holds beyond what earlier calls saw (`in` must start where it started
  /// then, and only grow). Returns the head's length, blank line included, or 0 if it has not
  /// ended yet.
  std::size_t scan(std::string_view in);
  /// Whether what is buffered already breaks a limit (check_head then says which).
  bool over_limits(std::string_view in, const head_limits& limits) const;
  void reset() { *this = head_scanner{}; }
  /// Bytes looked at by every scan() since the last reset (about the head's size, not its
  /// square).
  std::size_t examined() const { return examined_; }

private:
  std::size_t scanned_ = 0;
  std::size_t examined_ = 0;
  std::size_t first_lf_ = std::string_view::npos; ///< the request line's end
  std::size_t last_lf_ = std::string_view::npos;
};

/// How a request's body is framed, from its head (RFC 9112 §6).
struct body_framing {
  enum class kind { none, length, chunked, invalid };
  kind type = kind::none;
  unsigned long long length = 0; ///< kind::length
  int status = 0;                ///< kind::invalid: 400 or 501
  std::string error;             ///< kind::invalid
};

/// Content-Length (digits only; repeated values must agree) or Transfer-Encoding: chunked (the
/// only coding accepted: 501 for others). Both at once is refused (400), as a smuggling risk.
/// Neither: no body.
body_framing framing_of(const header_fields& headers);

/// Decodes a chunked body incrementally (RFC 9112 §7.1): sizes in hex with optional
/// extensions, data, CRLF; trailer fields are read and dropped.
class chunked_decoder {
public:
  enum class state { more, done, invalid, too_large };

  /// Consumes what it can of `in`, appending data to `out`; `consumed` says how much of `in`
  /// was used (a line is consumed only whole, so the caller keeps the rest and calls again
  /// with more). `too_large` once the data would exceed max_body (what was decoded is kept).
  state feed(std::string_view in, std::size_t& consumed, std::string& out, std::size_t max_body);

private:
  enum class phase { size, data, data_end, trailer, finished };
  phase phase_ = phase::size;
  unsigned long long left_ = 0; ///< data bytes of the current chunk still to come
  std::size_t trailer_fields_ = 0;
};

} // namespace smsd
