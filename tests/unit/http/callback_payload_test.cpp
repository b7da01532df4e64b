#include "http/webhook_handler.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/json_text.hpp"

using namespace smsd;

namespace {

// What smsd stored before callback_payload_json wrote the text itself: the nlohmann object
// (a repeated name becomes an array of its values), dumped with invalid UTF-8 replaced.
std::string by_nlohmann(const form_params& params) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : params) {
    auto i = out.find(name);
    if (i == out.end())
      out[name] = value;
    else if (i->is_array())
      i->push_back(value);
    else
      *i = nlohmann::json::array({*i, value});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

TEST_CASE("the callback's payload JSON is the text nlohmann/json writes", "[webhook][payload]") {
  const std::vector<form_params> cases = {
    {},
    {{"MessageSid", "SM123"}, {"AccountSid", "AC1"}, {"ApiVersion", "2010-04-01"}},
    // Repeats, in order, beside names that sort between them; an empty name and value.
    {{"b", "1"}, {"a", "x"}, {"b", "2"}, {"ab", ""}, {"b", "3"}, {"", "empty name"}},
    // Escapes: quotes, backslashes, control characters, DEL, tab, newline.
    {{"Body", "say \"hi\"\\ now\n\ttab\x01\x1f\x7f"}, {"q\"k", "v"}},
    // UTF-8 kept, bytes that are not UTF-8 replaced, in names and values; bytes above 0x7f
    // sort after ASCII.
    {{"Name", "caf\xc3\xa9 \xe2\x82\xac"}, {"Bad", "a\xff" "b\xc3"}, {"\xc3\xa9t\xc3\xa9", "x"},
     {"\xff", "y"}, {"z", "last"}},
    // Upper case before lower case, digits before letters (byte order).
    {{"a", "1"}, {"B", "2"}, {"1", "3"}, {"_", "4"}, {"A", "5"}},
  };
  for (const auto& params : cases) {
    INFO(by_nlohmann(params));
    CHECK(callback_payload_json(params) == by_nlohmann(params));
  }
}

TEST_CASE("JSON strings: plain ASCII as it is, the rest as nlohmann/json escapes it",
          "[webhook][payload]") {
  auto text = [](std::string_view v) {
    std::string out;
    append_json_string(out, v);
    return out;
  };
  CHECK(text("queued") == "\"queued\"");
  CHECK(text("") == "\"\"");
  CHECK(text("a\"b") == "\"a\\\"b\"");
  CHECK(text("a\\b") == "\"a\\\\b\"");
  CHECK(text("\n") == "\"\\n\"");
  CHECK(text("\x01") == "\"\\u0001\"");
  CHECK(text("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(text("\xff") == "\"\xef\xbf\xbd\""); // U+FFFD
}
