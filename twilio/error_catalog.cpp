#include "twilio/error_catalog.hpp"

namespace smsd {

namespace {

struct entry {
  const char* code;
  const char* title;
  const char* description;
  bool retryable;
};

// The seed's five entries are verbatim; the others follow TWILIO.md's table.
const entry catalog[] = {
  {"30003", "Unreachable handset", "Phone may be off or out of service area. Try again later.", true},
  {"30006", "Landline detected", "This number appears to be a landline and cannot receive SMS.", false},
  {"30007", "Carrier filtered", "Message was blocked by the carrier. This may be a spam filter.", false},
  {"21211", "Invalid phone number", "The phone number format is invalid.", false},
  {"21608", "Unverified number", "The sending number is not verified with Twilio.", false},
  {"30001", "Queue overflow", "Twilio held the message in its queue for too long. Send again later, at a slower rate.", true},
  {"30002", "Account suspended", "The Twilio account is suspended. Contact the platform's administrator.", false},
  {"30004", "Message blocked", "The recipient has blocked messages from this number, or the carrier blocked it.", false},
  {"30005", "Unknown handset", "The phone number does not exist or is not in service.", false},
  {"30008", "Unknown error", "The carrier reported an unknown delivery error. Try again.", true},
  {"30009", "Missing segment", "Part of a long message was lost on the way. Try again.", true},
  {"30010", "Price too high", "The message would cost more than the configured maximum price.", false},
  {"30022", "Rate limit exceeded", "Too many messages for this sender's 10DLC limit. Try again later.", true},
  {"30023", "Daily limit reached", "The sender's 10DLC daily cap is reached. Try again after it resets.", true},
  {"30024", "Sender not provisioned", "The sender ID is not provisioned with the carrier.", false},
  {"30032", "Toll-free number not verified", "The sending toll-free number is not verified.", false},
  {"30034", "Unregistered sender", "The message came from a 10DLC number that is not registered.", false},
  {"21408", "Region not enabled", "Sending to this country or region is not enabled for the account.", false},
  {"21610", "Recipient unsubscribed", "The recipient replied STOP and does not receive texts from this number.", false},
  {"21612", "Number cannot receive SMS", "This phone number cannot be reached by SMS.", false},
  {"21614", "Not a mobile number", "This phone number is not a mobile number and cannot receive SMS.", false},
  {"20429", "Too many requests", "Twilio was busy and did not take the message. Try again.", true},
};

} // namespace

error_info error_info_for(std::string_view code) {
  for (auto& e : catalog)
    if (code == e.code)
      return {e.title, e.description, e.retryable};
  return {"Error " + std::string(code), "An unexpected error occurred.", true};
}

bool error_code_known(std::string_view code) {
  for (auto& e : catalog)
    if (code == e.code)
      return true;
  return false;
}

} // namespace smsd
