package casestore

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id and a random 16-byte salt per hash,
// encoded in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<32-byte key>
//
// Each hash keeps its parameters, so changing Options.Argon2 applies to new
// hashes and old ones still verify.

const (
	saltLen = 16
	keyLen  = 32
)

func checkArgon2(p Argon2Params) error {
	if p.Memory < 8 || p.Memory > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return invalid("argon2 parameters", "m=%d KiB t=%d p=%d out of range (m 8..4194304, t 1..100, p ≥ 1)",
			p.Memory, p.Time, p.Threads)
	}
	return nil
}

func (s *Store) hashPassword(pw string) (string, error) {
	salt, err := s.random(saltLen)
	if err != nil {
		return "", err
	}
	p := s.opt.Argon2
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword says whether pw matches the PHC-encoded hash.
func checkPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, fmt.Errorf("casestore: password hash is not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, fmt.Errorf("casestore: argon2 version %q not supported", parts[2])
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("casestore: argon2 parameters %q: %v", parts[3], err)
	}
	if err := checkArgon2(p); err != nil {
		return false, err
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return false, fmt.Errorf("casestore: password hash has a bad salt or key")
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
