/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-explain.h"

#include <string.h>

/*
 * One static table: the inspector looks a header up here, and a teacher who wants to reword an
 * explanation finds every sentence in one place.
 */
static const AppHeaderExplanation explanations[] = {
  { "Via", "v",
    "The path the request took, so the response can retrace it. The branch parameter "
    "(z9hG4bK...) names the transaction: a retransmission reuses it, a new request gets a new one.",
    "RFC 3261 §8.1.1.7, §17" },
  { "To", "t",
    "In a REGISTER: the Address of Record whose bindings are being changed (the identity, not a "
    "place). In a call: who is being called. The tag is added by the answering side.",
    "RFC 3261 §8.1.1.2, §10.2" },
  { "From", "f",
    "Who sends the request. In a REGISTER it is the AOR again (or whoever registers on its "
    "behalf); the tag stays the same on every refresh.",
    "RFC 3261 §8.1.1.3, §10.2" },
  { "Call-ID", "i",
    "Ties requests together. A phone keeps one Call-ID for all the REGISTERs it sends to a "
    "registrar: that is how a refresh is told apart from a new registration.",
    "RFC 3261 §8.1.1.4, §10.2" },
  { "CSeq", NULL,
    "A sequence number and the method. It goes up by one with every new REGISTER of the same "
    "Call-ID; the registrar ignores a REGISTER whose CSeq is not higher than the last one.",
    "RFC 3261 §8.1.1.5, §10.3 step 7" },
  { "Contact", "m",
    "Where this device can be reached right now. REGISTER binds this URI to the AOR in To; "
    "a 200 OK lists every binding with the expiry the registrar granted. '*' means all.",
    "RFC 3261 §10.2.1, §20.10" },
  { "Expires", NULL,
    "How long (seconds) the binding should last. The registrar may shorten it, and its 200 OK "
    "says what was granted. Expires: 0 removes the binding.",
    "RFC 3261 §10.2.1.1, §10.3 step 7" },
  { "Min-Expires", NULL,
    "Sent with 423 Interval Too Brief: the shortest registration this registrar accepts. The "
    "phone retries with at least this value.",
    "RFC 3261 §10.3 step 7, §20.23" },
  { "WWW-Authenticate", NULL,
    "The registrar's challenge: the realm, a fresh nonce (a number used once) and the digest "
    "algorithm. The phone must prove it knows the password without sending it.",
    "RFC 3261 §22.4, RFC 7616 §3.3" },
  { "Proxy-Authenticate", NULL,
    "A proxy's challenge, sent with 407: the same digest as WWW-Authenticate (realm, a fresh "
    "one-time nonce, algorithm, qop=\"auth\"), but it asks the caller to prove who the From "
    "is before the proxy routes the request anywhere. This proxy challenges every new request "
    "(INVITE, MESSAGE...) whose From is a user of its domain; ACK and CANCEL are never "
    "challenged.",
    "RFC 3261 §22.3, §22.1, RFC 7616 §3.3" },
  { "Authorization", NULL,
    "The answer to the challenge: user name, realm, the nonce and response = a hash over the "
    "password, the nonce and the request. Sniffing it is useless once the nonce is used.",
    "RFC 3261 §22.4, RFC 7616 §3.4" },
  { "Proxy-Authorization", NULL,
    "The answer to a proxy's 407: user name, realm, the proxy's nonce and response = a hash over "
    "the password, the nonce, the method (INVITE) and the Request-URI. The user must be the one "
    "in From, or the proxy answers 403. The proxy whose realm it names uses it up and removes "
    "it: the callee never sees it.",
    "RFC 3261 §22.3, §20.28, RFC 7616 §3.4" },
  { "Max-Forwards", NULL,
    "Counts down at each proxy so a request caught in a loop dies.",
    "RFC 3261 §8.1.1.6" },
  { "Date", NULL,
    "The registrar's clock in a 200 OK, so a phone without a clock can set one.",
    "RFC 3261 §10.3 step 8, §20.17" },
  { "Record-Route", NULL,
    "A proxy that wants to stay in the path of later requests of the dialog adds itself here.",
    "RFC 3261 §16.6, §20.30" },
  { "User-Agent", NULL,
    "The software that sent the request: informative only.",
    "RFC 3261 §20.41" },
  { "Content-Length", "l",
    "The size of the body in bytes (0 for a REGISTER).",
    "RFC 3261 §20.14" },
  { "Content-Type", "c",
    "What the body is: application/sdp for a call's media offer.",
    "RFC 3261 §20.15" },
};

const AppHeaderExplanation *
app_explain_header (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (explanations); i++)
    {
      if (g_ascii_strcasecmp (name, explanations[i].name) == 0 ||
          (explanations[i].compact != NULL &&
           g_ascii_strcasecmp (name, explanations[i].compact) == 0))
        return &explanations[i];
    }
  return NULL;
}

static const struct {
  const char *prefix;
  const char *text;
} start_lines[] = {
  { "REGISTER", "REGISTER asks the registrar to bind the AOR in To to the Contact "
                "(RFC 3261 §10.2)." },
  { "INVITE", "INVITE starts a call. Through a proxy it is sent to the AOR; the proxy first "
              "challenges a caller of its own domain with 407 (RFC 3261 §22.3), then forks the "
              "INVITE to every registered Contact; point-to-point it goes straight to the "
              "address the caller knows (RFC 3261 §13, §16.6)." },
  { "ACK", "ACK confirms the final answer to an INVITE (RFC 3261 §13.2.2.4)." },
  { "BYE", "BYE ends the call (RFC 3261 §15)." },
  { "CANCEL", "CANCEL stops the other forks once one device answered (RFC 3261 §9)." },
  { "SIP/2.0 100", "100 Trying: the next hop has the request; stop retransmitting "
                   "(RFC 3261 §17.1.1.2)." },
  { "SIP/2.0 180", "180 Ringing: the called device is alerting (RFC 3261 §21.1.2)." },
  { "SIP/2.0 200", "200 OK: success. For a REGISTER it lists the current bindings with the "
                   "granted expiry (RFC 3261 §10.3 step 8)." },
  { "SIP/2.0 401", "401 Unauthorized: the registrar challenges; retry with Authorization "
                   "(RFC 3261 §22.2)." },
  { "SIP/2.0 407", "407 Proxy Authentication Required: the proxy will not route a request "
                   "whose From claims one of its users until the caller proves it. The phone "
                   "ACKs the 407 and sends the request again, same Call-ID, CSeq + 1, with "
                   "Proxy-Authorization answering the Proxy-Authenticate challenge "
                   "(RFC 3261 §22.3, §21.4.8)." },
  { "SIP/2.0 423", "423 Interval Too Brief: Expires is below the registrar's minimum "
                   "(RFC 3261 §10.3 step 7)." },
  { "SIP/2.0 480", "480 Temporarily Unavailable: the AOR has no binding now "
                   "(RFC 3261 §21.4.18)." },
  { "SIP/2.0 487", "487 Request Terminated: the INVITE was cancelled (RFC 3261 §21.4.25)." },
};

const char *
app_explain_first_line (const char *first_line)
{
  if (first_line == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (start_lines); i++)
    if (g_str_has_prefix (first_line, start_lines[i].prefix))
      return start_lines[i].text;
  return NULL;
}
