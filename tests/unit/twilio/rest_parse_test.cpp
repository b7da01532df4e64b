#include "twilio/rest_client.hpp"
#include "twilio/rest_client_detail.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace smsd;
using namespace smsd::twilio;

namespace {

millis at(const char* iso) {
  return parse_iso8601(iso).value();
}

// Twilio's answer to a create through a Messaging Service (its OpenAPI example
// "createWithMessagingService"): from null, error_code null, num_segments a string, price null.
const char* created_json = R"({
  "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "api_version": "2010-04-01",
  "body": "Hello! 👍",
  "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
  "date_sent": "Thu, 30 Jul 2015 20:12:33 +0000",
  "date_updated": "Thu, 30 Jul 2015 20:12:33 +0000",
  "direction": "outbound-api",
  "error_code": null,
  "error_message": null,
  "from": null,
  "messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "num_media": "0",
  "num_segments": "1",
  "price": null,
  "price_unit": null,
  "sid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "status": "accepted",
  "subresource_uris": {"media": "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media.json"},
  "to": "+14155552345",
  "uri": "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"
})";

// A message that failed later, as a fetch returns it: error_code an integer, a price, a sender.
const char* failed_json = R"({
  "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "body": "look mom",
  "date_created": "Fri, 24 May 2019 17:44:46 +0000",
  "date_sent": "Fri, 24 May 2019 17:44:49 -0700",
  "date_updated": "Fri, 24 May 2019 17:44:49 +0530",
  "error_code": 30004,
  "error_message": "Message blocked",
  "from": "+12019235161",
  "messaging_service_sid": null,
  "num_segments": "3",
  "price": "-0.00750",
  "price_unit": "USD",
  "sid": "SMc26223853f8c46b4ab7dfaa6abba0a26",
  "status": "undelivered",
  "to": "+18182008801"
})";

} // namespace

TEST_CASE("a created message reads as Twilio writes it: null error_code, string num_segments, RFC 2822 dates",
          "[twilio][rest]") {
  std::string why;
  auto m = parse_message_resource(created_json, &why);
  INFO(why);
  REQUIRE(m);
  CHECK(m->sid == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK(m->account_sid == "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK(m->messaging_service_sid == "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK(m->to == "+14155552345");
  CHECK(m->from.empty());
  CHECK(m->body == "Hello! 👍");
  CHECK(m->status == "accepted");
  CHECK_FALSE(m->error_code);
  CHECK_FALSE(m->error_message);
  CHECK(m->num_segments == 1);
  CHECK_FALSE(m->price);
  CHECK(m->date_created == at("2015-07-30T20:12:31Z"));
  CHECK(m->date_sent == at("2015-07-30T20:12:33Z"));
  CHECK(m->date_updated == at("2015-07-30T20:12:33Z"));
  CHECK(m->raw_json == created_json);
}

TEST_CASE("a failed message keeps its integer error_code, error_message, price and zoned dates",
          "[twilio][rest]") {
  auto m = parse_message_resource(failed_json);
  REQUIRE(m);
  CHECK(m->error_code == 30004);
  CHECK(m->error_message == "Message blocked");
  CHECK(m->from == "+12019235161");
  CHECK_FALSE(m->messaging_service_sid);
  CHECK(m->num_segments == 3);
  CHECK(m->price == "-0.00750");
  CHECK(m->status == "undelivered");
  CHECK(m->date_sent == at("2019-05-25T00:44:49Z"));
  CHECK(m->date_updated == at("2019-05-24T12:14:49Z"));
}

TEST_CASE("an error_code sent as a string of digits, as callbacks do, still reads as a number",
          "[twilio][rest]") {
  auto m = parse_message_resource(
    R"({"sid": "SM1", "status": "failed", "error_code": "30007", "num_segments": 2})");
  REQUIRE(m);
  CHECK(m->error_code == 30007);
  CHECK(m->num_segments == 2);
}

TEST_CASE("a message still waiting for a sender has num_segments 0 and no date_sent",
          "[twilio][rest]") {
  auto m = parse_message_resource(
    R"({"sid": "SM1", "status": "scheduled", "num_segments": "0", "date_sent": null, "to": null, "body": null})");
  REQUIRE(m);
  CHECK(m->num_segments == 0);
  CHECK_FALSE(m->date_sent);
  CHECK(m->to.empty());
  CHECK(m->body.empty());
}

TEST_CASE("a body that is not a message resource is refused with a reason", "[twilio][rest]") {
  for (const std::string& text : std::vector<std::string>{
         "", "<html>502</html>", "[]", R"({"status": "queued"})", R"({"sid": "SM1"})",
        R"({"sid": 12, "status": "queued"})", R"({"sid": "SM1", "status": "queued")",
        std::string(10000, '[') + std::string(10000, ']')}) {
    std::string why;
    CHECK_FALSE(parse_message_resource(text, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("Twilio's error body gives code, message, more_info and the HTTP status",
          "[twilio][rest]") {
  auto e = parse_api_error(400, R"({"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})");
  CHECK(e.http_status == 400);
  CHECK(e.code == 21211);
  CHECK(e.message == "The 'To' number +15005550001 is not a valid phone number.");
  CHECK(e.more_info == "https://www.twilio.com/docs/errors/21211");
}

TEST_CASE("an error body that is not Twilio's keeps readable text and no code", "[twilio][rest]") {
  SECTION("an HTML page from a proxy") {
    auto e = parse_api_error(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
                                  "<body><center><h1>502 Bad Gateway</h1></center>\r\n"
                                  "<hr><center>nginx</center></body></html>\r\n");
    CHECK(e.http_status == 502);
    CHECK_FALSE(e.code);
    CHECK(e.message == "502 Bad Gateway 502 Bad Gateway nginx");
  }
  SECTION("plain text") {
    auto e = parse_api_error(503, "Service   Unavailable\n");
    CHECK_FALSE(e.code);
    CHECK(e.message == "Service Unavailable");
  }
  SECTION("an empty body") {
    auto e = parse_api_error(500, "");
    CHECK(e.http_status == 500);
    CHECK_FALSE(e.code);
    CHECK(e.message.empty());
  }
  SECTION("JSON of another shape stays as it came") {
    const std::string body = R"({"type":"x","title":"Invalid request","status":422})";
    auto e = parse_api_error(422, body);
    CHECK_FALSE(e.code);
    CHECK(e.message == body);
  }
}

TEST_CASE("RFC 2822 dates convert to UTC milliseconds whatever their offset", "[twilio][rest]") {
  CHECK(parse_rfc2822("Thu, 30 Jul 2015 20:12:33 +0000") == at("2015-07-30T20:12:33Z"));
  CHECK(parse_rfc2822("Mon, 29 Nov 2021 22:40:10 -0500") == at("2021-11-30T03:40:10Z"));
  CHECK(parse_rfc2822("Wed, 19 Jun 2019 22:04:00 -0000") == at("2019-06-19T22:04:00Z"));
  CHECK(parse_rfc2822("Tue, 01 Jan 2030 05:30:00 +0530") == at("2030-01-01T00:00:00Z"));
  CHECK(parse_rfc2822("Thu, 1 Jan 1970 00:00:00 +0000") == 0);
  CHECK(parse_rfc2822("30 Jul 2015 20:12:33 +0000") == at("2015-07-30T20:12:33Z"));
  CHECK(parse_rfc2822("Thu, 30 Jul 2015 20:12:33 GMT") == at("2015-07-30T20:12:33Z"));
  CHECK(parse_rfc2822("thu, 30 jul 2015 20:12 +0000") == at("2015-07-30T20:12:00Z"));
  CHECK(parse_rfc2822("Thu, 29 Feb 2024 23:59:59 +0100") == at("2024-02-29T22:59:59Z"));
  CHECK(parse_rfc2822("  Thu, 30 Jul 2015 20:12:33 +0000  ") == at("2015-07-30T20:12:33Z"));
}

TEST_CASE("malformed RFC 2822 dates give nothing", "[twilio][rest]") {
  for (const char* bad :
       {"", "Thu, 30 Jul 2015", "Thu, 30 Jul 2015 20:12:33", "2015-07-30T20:12:33Z",
        "Thu, 30 Foo 2015 20:12:33 +0000", "Thu, 31 Feb 2015 20:12:33 +0000",
        "Thu, 29 Feb 2023 20:12:33 +0000", "Thu, 30 Jul 2015 24:00:00 +0000",
        "Thu, 30 Jul 2015 20:60:00 +0000", "Thu, 30 Jul 2015 20:12:33 +00",
        "Thu, 30 Jul 2015 20:12:33 +0000 junk", "Xyz, 30 Jul 2015 20:12:33 +0000",
        "Thu 30 Jul 2015 20:12:33 +0000", "Thu, 30 July 2015 20:12:33 +0000",
        "Thu, 30 Jul 15 20:12:33 +0000", "Thu, 30 Jul 2015 20:12:33 EST",
        "Thu, 0 Jul 2015 20:12:33 +0000"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc2822(bad));
  }
}

TEST_CASE("percent-encoding leaves only unreserved characters as they are", "[twilio][rest]") {
  CHECK(detail::percent_encode("+15551234567") == "%2B15551234567");
  CHECK(detail::percent_encode("DateSent>") == "DateSent%3E");
  CHECK(detail::percent_encode("DateSent<") == "DateSent%3C");
  CHECK(detail::percent_encode("a b&c=d/e?f") == "a%20b%26c%3Dd%2Fe%3Ff");
  CHECK(detail::percent_encode("Az09-._~") == "Az09-._~");
  CHECK(detail::percent_encode("é") == "%C3%A9");
  CHECK(detail::form_encode({{"To", "+1"}, {"Body", "50% off"}}) == "To=%2B1&Body=50%25%20off");
}

TEST_CASE("DateSent filters use the UTC day of the time given", "[twilio][rest]") {
  CHECK(detail::utc_date(0) == "1970-01-01");
  CHECK(detail::utc_date(at("2024-03-05T23:59:59.999Z")) == "2024-03-05");
  CHECK(detail::utc_date(at("2024-03-06T00:00:00Z")) == "2024-03-06");
  CHECK(detail::utc_date(at("2024-02-29T12:00:00Z")) == "2024-02-29");
  CHECK(detail::utc_date(-1) == "1969-12-31");
}

TEST_CASE("backoff draws from zero up to a ceiling that doubles and stops at the cap",
          "[twilio][rest]") {
  CHECK(detail::backoff_delay_ms(1, 200, 10000, 0.0) == 0);
  CHECK(detail::backoff_delay_ms(1, 200, 10000, 0.999999) == 199);
  CHECK(detail::backoff_delay_ms(2, 200, 10000, 0.5) == 200);
  CHECK(detail::backoff_delay_ms(3, 200, 10000, 0.5) == 400);
  CHECK(detail::backoff_delay_ms(10, 200, 10000, 0.5) == 5000);
  CHECK(detail::backoff_delay_ms(100, 200, 10000, 1.0) == 10000);
  CHECK(detail::backoff_delay_ms(3, 0, 10000, 0.5) == 0);
}

TEST_CASE("Retry-After reads as whole seconds, anything else as absent", "[twilio][rest]") {
  CHECK(detail::retry_after_ms("1") == 1000);
  CHECK(detail::retry_after_ms(" 30 ") == 30000);
  CHECK_FALSE(detail::retry_after_ms(""));
  CHECK_FALSE(detail::retry_after_ms("-1"));
  CHECK_FALSE(detail::retry_after_ms("1.5"));
  CHECK_FALSE(detail::retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST_CASE("JSON nesting is measured outside strings only", "[twilio][rest]") {
  CHECK(detail::json_depth_within(R"({"a": [1, {"b": "[[[[["}]})", 3));
  CHECK_FALSE(detail::json_depth_within(R"({"a": [1, {"b": [2]}]})", 3));
  CHECK(detail::json_depth_within(R"({"a": "\"{{{{"})", 1));
}
