/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-explain.h"
#include "sim-i18n.h"

#include <string.h>

/*
 * One static table: the inspector looks a header up here, and a teacher who wants to reword an
 * explanation finds every sentence in one place.
 */
static const AppHeaderExplanation explanations[] = {
  { "Via", "v",
    N_("The path the request took, so the response can retrace it. The branch parameter "
      "(z9hG4bK...) names the transaction: a retransmission reuses it, a new request gets a new one."),
    "RFC 3261 §8.1.1.7, §17" },
  { "To", "t",
    N_("In a REGISTER: the Address of Record whose bindings are being changed (the identity, not a "
      "place). In a call: who is being called. The tag is added by the answering side."),
    "RFC 3261 §8.1.1.2, §10.2" },
  { "From", "f",
    N_("Who sends the request. In a REGISTER it is the AOR again (or whoever registers on its "
      "behalf); the tag stays the same on every refresh."),
    "RFC 3261 §8.1.1.3, §10.2" },
  { "Call-ID", "i",
    N_("Ties requests together. A phone keeps one Call-ID for all the REGISTERs it sends to a "
      "registrar: that is how a refresh is told apart from a new registration."),
    "RFC 3261 §8.1.1.4, §10.2" },
  { "CSeq", NULL,
    N_("A sequence number and the method. It goes up by one with every new REGISTER of the same "
      "Call-ID; the registrar ignores a REGISTER whose CSeq is not higher than the last one."),
    "RFC 3261 §8.1.1.5, §10.3 step 7" },
  { "Contact", "m",
    N_("Where this device can be reached right now. REGISTER binds this URI to the AOR in To; "
      "a 200 OK lists every binding with the expiry the registrar granted. '*' means all."),
    "RFC 3261 §10.2.1, §20.10" },
  { "Expires", NULL,
    N_("How long (seconds) the binding should last. The registrar may shorten it, and its 200 OK "
      "says what was granted. Expires: 0 removes the binding."),
    "RFC 3261 §10.2.1.1, §10.3 step 7" },
  { "Min-Expires", NULL,
    N_("Sent with 423 Interval Too Brief: the shortest registration this registrar accepts. The "
      "phone retries with at least this value."),
    "RFC 3261 §10.3 step 7, §20.23" },
  { "WWW-Authenticate", NULL,
    N_("The registrar's challenge: the realm, a fresh nonce (a number used once) and the digest "
      "algorithm. The phone must prove it knows the password without sending it."),
    "RFC 3261 §22.4, RFC 7616 §3.3" },
  { "Proxy-Authenticate", NULL,
    N_("A proxy's challenge, sent with 407: the same digest as WWW-Authenticate (realm, a fresh "
      "one-time nonce, algorithm, qop=\"auth\"), but it asks the caller to prove who the From "
      "is before the proxy routes the request anywhere. This proxy challenges every new request "
      "(INVITE, MESSAGE...) whose From is a user of its domain; ACK and CANCEL are never "
      "challenged."),
    "RFC 3261 §22.3, §22.1, RFC 7616 §3.3" },
  { "Authorization", NULL,
    N_("The answer to the challenge: user name, realm, the nonce and response = a hash over the "
      "password, the nonce and the request. Sniffing it is useless once the nonce is used."),
    "RFC 3261 §22.4, RFC 7616 §3.4" },
  { "Proxy-Authorization", NULL,
    N_("The answer to a proxy's 407: user name, realm, the proxy's nonce and response = a hash over "
      "the password, the nonce, the method (INVITE) and the Request-URI. The user must be the one "
      "in From, or the proxy answers 403. The proxy whose realm it names uses it up and removes "
      "it: the callee never sees it."),
    "RFC 3261 §22.3, §20.28, RFC 7616 §3.4" },
  { "Max-Forwards", NULL,
    N_("Counts down at each proxy so a request caught in a loop dies."),
    "RFC 3261 §8.1.1.6" },
  { "Date", NULL,
    N_("The registrar's clock in a 200 OK, so a phone without a clock can set one."),
    "RFC 3261 §10.3 step 8, §20.17" },
  { "Record-Route", NULL,
    N_("A proxy that wants to stay in the path of later requests of the dialog adds itself here."),
    "RFC 3261 §16.6, §20.30" },
  { "User-Agent", NULL,
    N_("The software that sent the request: informative only."),
    "RFC 3261 §20.41" },
  { "Content-Length", "l",
    N_("The size of the body in bytes (0 for a REGISTER)."),
    "RFC 3261 §20.14" },
  { "Content-Type", "c",
    N_("What the body is: application/sdp for a call's media offer."),
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

/*
 * Start lines.  A response is explained as the answer to its own request: the CSeq method
 * decides (RFC 3261 §8.1.1.5, §8.2.6), so a 200 to a BYE is not described as a registration.
 * The first row whose prefix matches and whose method is NULL or the message's wins; rows
 * with a method come before the general row of the same status.
 */
static const struct {
  const char *prefix;
  const char *method;     /* the CSeq method a response answers, or NULL for any */
  const char *text;
} start_lines[] = {
  { "REGISTER", NULL, N_("REGISTER asks the registrar to bind the AOR in To to the Contact "
                         "(RFC 3261 §10.2).") },
  { "INVITE", NULL, N_("INVITE starts a call. Through a proxy it is sent to the AOR; the proxy "
                       "first challenges a caller of its own domain with 407 (RFC 3261 §22.3), "
                       "then forks the INVITE to every registered Contact; point-to-point it goes "
                       "straight to the address the caller knows (RFC 3261 §13, §16.6).") },
  { "ACK", NULL, N_("ACK confirms the final answer to an INVITE (RFC 3261 §13.2.2.4).") },
  { "BYE", NULL, N_("BYE ends the call (RFC 3261 §15).") },
  { "CANCEL", NULL, N_("CANCEL stops the other forks once one device answered (RFC 3261 §9).") },
  { "OPTIONS", NULL, N_("OPTIONS asks what the other side supports without starting a call; "
                        "phones and proxies also send it as a keep-alive (RFC 3261 §11).") },
  { "MESSAGE", NULL, N_("MESSAGE carries an instant message in its body, routed like an INVITE "
                        "but outside any call (RFC 3428).") },
  { "SUBSCRIBE", NULL, N_("SUBSCRIBE asks to be told about an event (presence, message-summary "
                          "for voicemail) until it expires (RFC 6665 §4.1).") },
  { "NOTIFY", NULL, N_("NOTIFY tells a subscriber the event's new state (RFC 6665 §4.2).") },
  { "PUBLISH", NULL, N_("PUBLISH uploads this device's event state, such as presence, to a "
                        "server (RFC 3903).") },
  { "INFO", NULL, N_("INFO carries information inside a call, such as keypad digits "
                     "(RFC 6086).") },
  { "UPDATE", NULL, N_("UPDATE changes the session (media) before the call is answered "
                       "(RFC 3311).") },
  { "PRACK", NULL, N_("PRACK acknowledges a reliable provisional response (RFC 3262).") },
  { "REFER", NULL, N_("REFER asks the other side to call someone else: a transfer "
                      "(RFC 3515).") },
  { "SIP/2.0 100", NULL, N_("100 Trying: the next hop has the request; stop retransmitting "
                            "(RFC 3261 §17.1.1.2).") },
  { "SIP/2.0 180", NULL, N_("180 Ringing: the called device is alerting (RFC 3261 §21.1.2).") },
  { "SIP/2.0 183", NULL, N_("183 Session Progress: early media, such as a ringback tone or an "
                            "announcement, before the call is answered (RFC 3261 §21.1.5).") },
  { "SIP/2.0 200", "REGISTER", N_("200 OK to a REGISTER: the registration is accepted. It lists "
                                  "the AOR's current bindings with the expiry the registrar "
                                  "granted, which may be shorter than asked (RFC 3261 §10.3 step "
                                  "8).") },
  { "SIP/2.0 200", "INVITE", N_("200 OK to an INVITE: the call is answered. The caller "
                                "confirms it with an ACK; the body is the callee's media answer "
                                "(RFC 3261 §13.2.2.4, §13.3.1.4).") },
  { "SIP/2.0 200", "BYE", N_("200 OK to a BYE: the call is over; both sides forget the dialog "
                             "(RFC 3261 §15.1.2).") },
  { "SIP/2.0 200", "CANCEL", N_("200 OK to a CANCEL: the cancel arrived. The INVITE itself is "
                                "then answered 487 Request Terminated (RFC 3261 §9.2).") },
  { "SIP/2.0 200", "OPTIONS", N_("200 OK to an OPTIONS: the device is there; Allow, Accept and "
                                 "Supported list what it can do (RFC 3261 §11.2).") },
  { "SIP/2.0 200", NULL, N_("200 OK: the request succeeded (RFC 3261 §21.2.1).") },
  { "SIP/2.0 202", NULL, N_("202 Accepted: the request will be acted on later; a NOTIFY says how "
                            "it went (RFC 3515, RFC 6665).") },
  { "SIP/2.0 401", NULL, N_("401 Unauthorized: the registrar (or the called device) challenges; "
                            "retry with Authorization answering WWW-Authenticate (RFC 3261 "
                            "§22.2).") },
  { "SIP/2.0 403", NULL, N_("403 Forbidden: the server understood and refuses; authenticating "
                            "again will not help (RFC 3261 §21.4.4).") },
  { "SIP/2.0 404", NULL, N_("404 Not Found: no such user in this domain (RFC 3261 "
                            "§21.4.5).") },
  { "SIP/2.0 407", NULL, N_("407 Proxy Authentication Required: the proxy will not route a "
                            "request whose From claims one of its users until the caller proves "
                            "it. The phone ACKs the 407 and sends the request again, same "
                            "Call-ID, CSeq + 1, with Proxy-Authorization answering the "
                            "Proxy-Authenticate challenge (RFC 3261 §22.3, §21.4.8).") },
  { "SIP/2.0 408", NULL, N_("408 Request Timeout: no final answer came in time (RFC 3261 "
                            "§21.4.9).") },
  { "SIP/2.0 423", NULL, N_("423 Interval Too Brief: Expires is below the registrar's minimum "
                            "(RFC 3261 §10.3 step 7).") },
  { "SIP/2.0 480", NULL, N_("480 Temporarily Unavailable: the AOR has no binding now "
                            "(RFC 3261 §21.4.18).") },
  { "SIP/2.0 481", NULL, N_("481 Call/Transaction Does Not Exist: the request names a call or "
                            "transaction this side does not know (RFC 3261 §21.4.19).") },
  { "SIP/2.0 486", NULL, N_("486 Busy Here: the device is busy (RFC 3261 §21.4.24).") },
  { "SIP/2.0 487", NULL, N_("487 Request Terminated: the INVITE was cancelled (RFC 3261 "
                            "§21.4.25).") },
  { "SIP/2.0 488", NULL, N_("488 Not Acceptable Here: the media offer cannot be accepted "
                            "(RFC 3261 §21.4.26).") },
  { "SIP/2.0 500", NULL, N_("500 Server Internal Error: the server failed to handle the request "
                            "(RFC 3261 §21.5.1).") },
  { "SIP/2.0 503", NULL, N_("503 Service Unavailable: the server is overloaded or down; "
                            "Retry-After says when to come back (RFC 3261 §21.5.4).") },
  { "SIP/2.0 603", NULL, N_("603 Decline: the user does not want to take the call (RFC 3261 "
                            "§21.6.2).") },
};

const char *
app_explain_first_line (const char *first_line,
                        const char *method)
{
  if (first_line == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (start_lines); i++)
    {
      if (!g_str_has_prefix (first_line, start_lines[i].prefix))
        continue;
      /* A request's method must end the prefix: "INFO" is not "INFOX sip:...". */
      if (!g_str_has_prefix (first_line, "SIP/") &&
          first_line[strlen (start_lines[i].prefix)] != ' ')
        continue;
      if (start_lines[i].method != NULL &&
          (method == NULL || strcmp (method, start_lines[i].method) != 0))
        continue;
      return _(start_lines[i].text);
    }
  return NULL;
}
