// Package gitee is the provider for Gitee (gitee.com).
//
// # Verification
//
// Gitee authenticates a delivery with the X-Gitee-Token header, in one of
// two modes chosen when the hook is made:
//
//   - password mode: the header holds the hook's password in plain text;
//   - signature mode: the header holds
//     Base64(HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret)), where
//     timestamp is the X-Gitee-Timestamp header (milliseconds). Gitee's
//     documentation adds a URL-encoding step; deliveries carry plain base64.
//     Both forms are accepted, and the timestamp must be within an hour of
//     the receiver's clock.
//
// One set of secrets serves both modes: a delivery is accepted when its
// token equals a secret or is a valid signature under one. Accepting either
// is no weaker than accepting one: both prove that the sender knows the
// secret, and a password-mode token is the secret itself, which also
// produces every valid signature. Comparisons are constant time.
//
// # Replays
//
// Neither mode covers the body. A signature proves only that the sender
// knew the secret at the given timestamp: whoever sees one delivery can send
// another body with the same headers within the hour (and, in password
// mode, at any time). Serve the hook over HTTPS only. Event.Delivery is the
// hex SHA-256 of the timestamp and the token (never the token itself), so a
// replayed token yields the same delivery id and a receiver that
// deduplicates on it builds at most once per token. Since the id is derived
// from the token, and in password mode from the secret, use a long random
// secret that no dictionary holds.
//
// The body carries the password, or the signature and its timestamp, in its
// own "password", "sign" and "timestamp" fields. Parse never reads them, so
// they reach no event, log or error.
//
// # Events
//
// Push Hook and Tag Push Hook deliveries become events; every other hook
// (merge requests, issues, notes) is ignored before any push field is
// required, and so are deletions. Names come from the repository's URL path
// (path_with_namespace), never from repository.name, which is a display
// name and may be Chinese.
//
// # Archives
//
// Archives come from the API's zipball endpoint, with the token in the
// access_token query parameter, the only place Gitee's API takes it. The
// request URL therefore holds a credential: log it only through a redacting
// function. Errors from this package never hold it.
package gitee
