#include "http/http_parser.hpp"

#include <algorithm>

namespace smsd {

namespace {

// tchar of RFC 9110 §5.6.2.
bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(c); });
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

head_parse invalid(int status, std::string why) {
  head_parse r;
  r.result = head_parse::state::invalid;
  r.status = status;
  r.error = std::move(why);
  return r;
}

// The next line of `in` from `pos`, without its CRLF or LF; false if no line end yet.
bool next_line(std::string_view in, std::size_t& pos, std::string_view& line) {
  const std::size_t lf = in.find('\n', pos);
  if (lf == std::string_view::npos)
    return false;
  std::size_t end = lf;
  if (end > pos && in[end - 1] == '\r')
    --end;
  line = in.substr(pos, end - pos);
  pos = lf + 1;
  return true;
}

head_parse parse_request_line(std::string_view line, request_head& out) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return invalid(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method))
    return invalid(400, "malformed request method");
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      }))
    return invalid(400, "malformed request target");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.'
      || version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return invalid(400, "malformed HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return invalid(505, "only HTTP/1.0 and HTTP/1.1 are served");
  out.method = std::string(method);
  out.target = std::string(target);
  out.minor_version = version[7] - '0';
  return {};
}

bool parse_hex_size(std::string_view digits, unsigned long long& out) {
  if (digits.empty() || digits.size() > 15) // 15 hex digits: far beyond any body we take
    return false;
  unsigned long long v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * 16 + static_cast<unsigned>(d);
  }
  out = v;
  return true;
}

// Longest size or trailer line accepted in a chunked body.
constexpr std::size_t max_chunk_line = 4096;
constexpr std::size_t max_trailer_fields = 100;

} // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

void header_fields::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void header_fields::set(std::string name, std::string value) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const auto& f) { return iequals(f.first, name); }),
                fields_.end());
  add(std::move(name), std::move(value));
}

const std::string* header_fields::find(std::string_view name) const {
  for (const auto& [n, v] : fields_)
    if (iequals(n, name))
      return &v;
  return nullptr;
}

namespace {

// parse_head and check_head: `out` null checks without building the head.
head_parse read_head(std::string_view in, const head_limits& limits, request_head* out) {
  std::size_t pos = 0;
  std::string_view line;
  // Empty lines before the request line are skipped (RFC 9112 §2.2).
  while (true) {
    const std::size_t start = pos;
    if (!next_line(in, pos, line)) {
      if (in.size() - start > limits.max_request_line)
        return invalid(414, "request line too long");
      return {};
    }
    if (line.size() > limits.max_request_line)
      return invalid(414, "request line too long");
    if (!line.empty())
      break;
    if (pos > limits.max_head)
      return invalid(400, "malformed request line");
  }
  request_head head;
  if (auto r = parse_request_line(line, head); r.result == head_parse::state::invalid)
    return r;
  std::size_t fields = 0;
  while (true) {
    const std::size_t line_start = pos;
    if (!next_line(in, pos, line)) {
      if (in.size() > limits.max_head || in.size() - line_start > limits.max_field)
        return invalid(431, "request header fields too large");
      return {};
    }
    if (pos > limits.max_head || line.size() > limits.max_field)
      return invalid(431, "request header fields too large");
    if (line.empty())
      break;
    if (line.front() == ' ' || line.front() == '\t')
      return invalid(400, "obsolete line folding in a header field");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return invalid(400, "malformed header field");
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && u != '\t') || u == 0x7f;
        }))
      return invalid(400, "control character in a header field");
    if (fields >= limits.max_fields)
      return invalid(431, "too many header fields");
    ++fields;
    if (out)
      head.headers.add(std::string(line.substr(0, colon)), std::string(value));
  }
  if (out)
    *out = std::move(head);
  head_parse r;
  r.result = head_parse::state::complete;
  r.consumed = pos;
  return r;
}

} // namespace

head_parse parse_head(std::string_view in, const head_limits& limits, request_head& out) {
  return read_head(in, limits, &out);
}

head_parse check_head(std::string_view in, const head_limits& limits) {
  return read_head(in, limits, nullptr);
}

std::size_t head_scanner::scan(std::string_view in) {
  // A blank line ends the head: LF LF or LF CR LF. Look back two bytes for a blank line that
  // the last call saw only the start of.
  const std::size_t from = scanned_ >= 2 ? scanned_ - 2 : 0;
  std::size_t i = in.find('\n', from);
  for (; i != std::string_view::npos; i = in.find('\n', i + 1)) {
    if (i >= scanned_ || last_lf_ == std::string_view::npos || i > last_lf_) {
      if (first_lf_ == std::string_view::npos)
        first_lf_ = i;
      // An LF that is not the request line's and ends an empty line.
      if (i != first_lf_
          && ((i >= 1 && in[i - 1] == '\n') || (i >= 2 && in[i - 1] == '\r' && in[i - 2] == '\n'))) {
        examined_ += i + 1 - from;
        return i + 1;
      }
      last_lf_ = i;
    }
  }
  examined_ += in.size() > from ? in.size() - from : 0;
  scanned_ = in.size();
  return 0;
}

bool head_scanner::over_limits(std::string_view in, const head_limits& limits) const {
  if (in.size() > limits.max_head)
    return true;
  if (first_lf_ == std::string_view::npos)
    return in.size() > limits.max_request_line;
  return in.size() - (last_lf_ + 1) > limits.max_field;
}

body_framing framing_of(const header_fields& headers) {
  body_framing f;
  bool has_length = false;
  bool has_coding = false;
  std::string_view last_coding;
  for (const auto& [name, value] : headers.fields()) {
    if (iequals(name, "Content-Length")) {
      // "5" or a list of equal values ("5, 5"), as RFC 9110 §8.6 allows.
      std::string_view rest = value;
      while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        if (item.empty() || item.size() > 18
            || !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          f.type = body_framing::kind::invalid;
          f.status = 400;
          f.error = "malformed Content-Length";
          return f;
        }
        const unsigned long long n = std::stoull(std::string(item));
        if (has_length && n != f.length) {
          f.type = body_framing::kind::invalid;
          f.status = 400;
          f.error = "conflicting Content-Length values";
          return f;
        }
        has_length = true;
        f.length = n;
        if (comma == std::string_view::npos)
          break;
        rest.remove_prefix(comma + 1);
      }
    } else if (iequals(name, "Transfer-Encoding")) {
      std::string_view rest = value;
      while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        if (!item.empty()) {
          if (has_coding && iequals(last_coding, "chunked")) {
            f.type = body_framing::kind::invalid;
            f.status = 400;
            f.error = "chunked must be the last transfer coding";
            return f;
          }
          has_coding = true;
          last_coding = item;
        }
        if (comma == std::string_view::npos)
          break;
        rest.remove_prefix(comma + 1);
      }
      if (!has_coding) {
        f.type = body_framing::kind::invalid;
        f.status = 400;
        f.error = "empty Transfer-Encoding";
        return f;
      }
    }
  }
  if (has_coding) {
    if (has_length) {
      f.type = body_framing::kind::invalid;
      f.status = 400;
      f.error = "both Content-Length and Transfer-Encoding";
      return f;
    }
    if (!iequals(last_coding, "chunked")) {
      f.type = body_framing::kind::invalid;
      f.status = 400;
      f.error = "a body must end with the chunked transfer coding";
      return f;
    }
    f.type = body_framing::kind::chunked;
    return f;
  }
  if (has_length) {
    f.type = f.length == 0 ? body_framing::kind::none : body_framing::kind::length;
    return f;
  }
  return f;
}

chunked_decoder::state chunked_decoder::feed(std::string_view in, std::size_t& consumed,
                                             std::string& out, std::size_t max_body) {
  std::size_t pos = 0;
  auto finish = [&](state s) {
    consumed = pos;
    return s;
  };
  while (true) {
    switch (phase_) {
      case phase::finished: return finish(state::done);
      case phase::size: {
        std::string_view line;
        std::size_t next = pos;
        if (!next_line(in, next, line))
          return finish(in.size() - pos > max_chunk_line ? state::invalid : state::more);
        if (line.size() > max_chunk_line)
          return finish(state::invalid);
        const std::size_t semi = line.find(';');
        const std::string_view digits = trim_ows(line.substr(0, semi));
        unsigned long long size = 0;
        if (!parse_hex_size(digits, size))
          return finish(state::invalid);
        pos = next;
        if (size == 0) {
          phase_ = phase::trailer;
        } else {
          if (out.size() + size > max_body)
            return finish(state::too_large);
          left_ = size;
          phase_ = phase::data;
        }
        break;
      }
      case phase::data: {
        const std::size_t take =
          static_cast<std::size_t>(std::min<unsigned long long>(left_, in.size() - pos));
        out.append(in.data() + pos, take);
        pos += take;
        left_ -= take;
        if (left_ > 0)
          return finish(state::more);
        phase_ = phase::data_end;
        break;
      }
      case phase::data_end: {
        std::string_view line;
        std::size_t next = pos;
        if (!next_line(in, next, line))
          return finish(in.size() - pos > 2 ? state::invalid : state::more);
        if (!line.empty())
          return finish(state::invalid);
        pos = next;
        phase_ = phase::size;
        break;
      }
      case phase::trailer: {
        std::string_view line;
        std::size_t next = pos;
        if (!next_line(in, next, line))
          return finish(in.size() - pos > max_chunk_line ? state::invalid : state::more);
        pos = next;
        if (line.empty()) {
          phase_ = phase::finished;
          return finish(state::done);
        }
        if (++trailer_fields_ > max_trailer_fields || line.size() > max_chunk_line)
          return finish(state::invalid);
        break;
      }
    }
  }
}

} // namespace smsd
