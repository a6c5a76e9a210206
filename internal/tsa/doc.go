// Package tsa obtains and verifies RFC 3161 time-stamp tokens, so that a
// court can see that an audit-log checkpoint or an exhibit existed at a
// given time.
//
// A time-stamping authority (TSA) is a third party that, asked with the
// hash of some data, answers with a time-stamp token: a statement "this
// hash existed at time T" (with a serial number, the TSA's policy and the
// accuracy of its clock), signed by the TSA's key in a CMS SignedData
// structure (RFC 5652). The TSA never sees the data itself, only its hash.
// Anyone holding the data, the token and the TSA's root certificate can
// check the statement later, without asking the TSA again.
//
// Concepts:
//
//   - Client.Timestamp sends a TimeStampReq (the message imprint, a random
//     nonce, certReq true, optionally a requested policy) by HTTP POST with
//     Content-Type application/timestamp-query, reads the TimeStampResp,
//     checks that the status is granted, verifies the token (as Verify does)
//     and that it carries the request's nonce, imprint and policy, and
//     returns the token's DER bytes (the CMS ContentInfo) to store next to
//     what it stamps.
//   - Verify checks a stored token against the SHA-256, SHA-384 or SHA-512
//     digest of the data and a set of trusted roots, and returns its Info:
//     the time, accuracy, serial, policy and the TSA that signed it.
//   - VerifyWithCAFile does the same with the roots read from a PEM file
//     (ReadCAFile), as `vestigo audit verify` does.
//
// What a successful verification proves: the token is intact and was
// signed by the holder of a key whose certificate, found in the token by the
// signer's issuer and serial number or subject key identifier, chains to one
// of the given roots, is marked (critically, and only) for time stamping,
// and was valid at the token's time; the signed attributes name the
// TSTInfo content type, carry the hash of exactly this TSTInfo and identify
// exactly this certificate (ESS signingCertificate or signingCertificateV2,
// RFC 5816); the token's TSA name, if present, names that certificate; and
// the message imprint equals the digest given. Hence: whoever controls that
// TSA key stated that the data with this digest existed at Info.Time
// (within Info.Accuracy). It does not prove that the TSA's clock was right,
// and revocation of the TSA certificate (CRL, OCSP) is not checked: the
// chain is judged at the token's time with the roots the caller trusts.
//
// Supported signatures: ECDSA (P-256, P-384, P-521) and RSA PKCS#1 v1.5
// (2048 bits or more), with SHA-256, SHA-384 or SHA-512. Tokens must be DER,
// as RFC 3161 TSAs produce them; a BER (indefinite-length) token is
// rejected as malformed. The token must carry the signer's certificate
// (the client always asks for it).
//
// Errors, wrapped with "tsa: " and what is wrong:
//
//   - ErrRejected: the TSA did not grant the request; the error carries the
//     TSA's status, status text and failure reasons.
//   - ErrMismatch: the token is valid but is not for this request: another
//     message imprint (digest or hash algorithm), nonce or policy.
//   - ErrSignature: the token is not what the TSA signed, or the signer is
//     not trusted: bad CMS signature, altered content, certificate not
//     found, chain not ending in the roots, certificate not for time
//     stamping or not valid at the token's time, TSA name not the signer's.
//   - ErrMalformed: the bytes are not a well-formed RFC 3161 response or
//     token (or use an algorithm this package does not support).
//
// Bad input to Client.Timestamp (a digest of the wrong length, no URL) wraps
// chain.ErrInvalid. Transport failures (HTTP errors, status codes) are plain
// wrapped errors. The package keeps no state and never logs; Verify does not
// read the clock.
package tsa
