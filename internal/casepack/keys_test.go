package casepack

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

// seeded is a deterministic random source for keys.
func seeded(n byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte{n}) }

func mustKeys(t testing.TB, n byte) *Keys {
	t.Helper()
	k, err := GenerateKeys(seeded(n))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateKeysDeterministic(t *testing.T) {
	a, b, c := mustKeys(t, 1), mustKeys(t, 1), mustKeys(t, 2)
	if !bytes.Equal(a.Sign, b.Sign) || a.Recipient() != b.Recipient() || a.Age.String() != b.Age.String() {
		t.Fatal("the same seed gave different keys")
	}
	if bytes.Equal(a.Sign, c.Sign) || a.Recipient() == c.Recipient() {
		t.Fatal("different seeds gave the same keys")
	}
	if !strings.HasPrefix(a.Recipient(), "age1") {
		t.Fatalf("recipient %q", a.Recipient())
	}
	if id := KeyID(a.SigningKey()); len(id) != 16 || id != KeyID(b.SigningKey()) || id == KeyID(c.SigningKey()) {
		t.Fatalf("key id %q", id)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	// The age identity decrypts what is encrypted to the recipient.
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, a.Age.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	w.Close()
	if _, err := age.Decrypt(&buf, a.Age); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKeys(bytes.NewReader(make([]byte, 40))); err == nil {
		t.Fatal("a short random source gave keys")
	}
}

// TestBech32 checks the encoder against btcd's Bech32 implementation and
// against keys age generates itself.
func TestBech32(t *testing.T) {
	r := seeded(9)
	for i := range 50 {
		data := make([]byte, i)
		r.Read(data)
		got, err := bech32Encode("age-secret-key-", data)
		if err != nil {
			t.Fatal(err)
		}
		conv, err := bech32.ConvertBits(data, 8, 5, true)
		if err != nil {
			t.Fatal(err)
		}
		want, err := bech32.Encode("age-secret-key-", conv)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%x: %s, btcd says %s", data, got, want)
		}
	}
	for range 5 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		hrp, data, err := bech32.DecodeNoLimit(strings.ToLower(id.String()))
		if err != nil {
			t.Fatal(err)
		}
		scalar, err := bech32.ConvertBits(data, 5, 8, false)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := x25519IdentityFromScalar(scalar)
		if err != nil {
			t.Fatal(err)
		}
		if hrp != "age-secret-key-" || mine.String() != id.String() || mine.Recipient().String() != id.Recipient().String() {
			t.Fatalf("rebuilt %s as %s", id.Recipient(), mine.Recipient())
		}
	}
	if _, err := bech32Encode("AGE", nil); err == nil {
		t.Fatal("upper-case hrp accepted")
	}
}

func TestSaveLoadKeys(t *testing.T) {
	t.Parallel()
	k := mustKeys(t, 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.age")
	pass := []byte("correct horse battery staple")

	if err := SaveKeys(path, k, nil); err == nil {
		t.Fatal("empty passphrase accepted")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused save left %s: %v", path, err)
	}
	if err := SaveKeys(path, k, pass); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")) {
		t.Fatalf("not an armoured age file:\n%s", raw)
	}
	for _, secret := range []string{k.Age.String(), strings.ToLower(k.Age.String()), string(k.Sign.Seed())} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatal("the key file holds a private key in the clear")
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}

	got, err := LoadKeys(path, pass)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Sign, k.Sign) || got.Age.String() != k.Age.String() {
		t.Fatal("loaded keys differ")
	}
	if _, err := LoadKeys(path, []byte("Correct horse battery staple")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := LoadKeys(path, nil); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if err := SaveKeys(path, mustKeys(t, 2), pass); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite: %v", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, raw) {
		t.Fatal("a refused save changed the key file")
	}
	if _, err := LoadKeys(filepath.Join(dir, "missing"), pass); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("vestigo-keys v1\n"), 0o600)
	if _, err := LoadKeys(plain, pass); err == nil || errors.Is(err, ErrPassphrase) {
		t.Fatalf("a plain file: %v", err)
	}
	if err := SaveKeys(filepath.Join(dir, "bad"), &Keys{Sign: k.Sign[:10], Age: k.Age}, pass); err == nil {
		t.Fatal("a broken key saved")
	}
}

func TestParseKeys(t *testing.T) {
	k := mustKeys(t, 1)
	good := "vestigo-keys v1\ned25519-seed: " + b64(k.Sign.Seed()) + "\nage-identity: " + k.Age.String() + "\n"
	if got, err := parseKeys([]byte(good)); err != nil || !bytes.Equal(got.Sign, k.Sign) {
		t.Fatalf("%v", err)
	}
	for _, bad := range []string{
		"",
		strings.Replace(good, "v1", "v2", 1),
		strings.Replace(good, "ed25519-seed: ", "seed: ", 1),
		strings.Replace(good, b64(k.Sign.Seed()), b64(k.Sign.Seed()[:31]), 1),
		strings.Replace(good, k.Age.String(), k.Recipient(), 1),
		good + "extra\n",
	} {
		if _, err := parseKeys([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestIdentity(t *testing.T) {
	k := mustKeys(t, 1)
	id := k.Identity("KOS-PD Cyber Crime Unit")
	text, err := FormatIdentity(id)
	if err != nil {
		t.Fatal(err)
	}
	want := "vestigo-identity v1\nagency: KOS-PD Cyber Crime Unit\nkey-id: " + KeyID(k.SigningKey()) +
		"\nsigning-key: " + b64(k.SigningKey()) + "\nrecipient: " + k.Recipient() + "\n"
	if string(text) != want {
		t.Fatalf("got\n%s\nwant\n%s", text, want)
	}
	for _, in := range []string{want, strings.ReplaceAll(want, "\n", "\r\n"), strings.TrimSuffix(want, "\n")} {
		got, err := ParseIdentity([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got.Agency != id.Agency || !bytes.Equal(got.SigningKey, id.SigningKey) || got.Recipient != id.Recipient {
			t.Fatalf("round trip: %+v", got)
		}
	}
	if r, err := id.AgeRecipient(); err != nil || r.String() != k.Recipient() {
		t.Fatalf("recipient: %v", err)
	}
	other := mustKeys(t, 2)
	for name, bad := range map[string]string{
		"empty":          "",
		"version":        strings.Replace(want, "v1", "v2", 1),
		"wrong key id":   strings.Replace(want, KeyID(k.SigningKey()), KeyID(other.SigningKey()), 1),
		"swapped key":    strings.Replace(want, b64(k.SigningKey()), b64(other.SigningKey()), 1),
		"short key":      strings.Replace(want, b64(k.SigningKey()), b64(k.SigningKey()[:16]), 1),
		"bad recipient":  strings.Replace(want, k.Recipient(), "age1nope", 1),
		"empty agency":   strings.Replace(want, "KOS-PD Cyber Crime Unit", "", 1),
		"control char":   strings.Replace(want, "KOS-PD", "KOS\x1b[31m", 1),
		"missing line":   strings.Replace(want, "key-id: "+KeyID(k.SigningKey())+"\n", "", 1),
		"extra line":     want + "comment: hi\n",
		"reordered":      strings.Replace(strings.Replace(want, "agency: ", "x: ", 1), "key-id: ", "agency: ", 1),
		"secret as recp": strings.Replace(want, k.Recipient(), k.Age.String(), 1),
	} {
		if _, err := ParseIdentity([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := FormatIdentity(Identity{Agency: "x", SigningKey: ed25519.PublicKey{1}, Recipient: k.Recipient()}); err == nil {
		t.Error("formatted a short key")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
