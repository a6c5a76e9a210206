package casepack

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Keys is an installation's identity: Sign signs the packages it sends, Age
// decrypts the packages sent to it.
type Keys struct {
	Sign ed25519.PrivateKey
	Age  *age.X25519Identity
}

// ErrPassphrase is returned by LoadKeys when the passphrase does not open
// the key file.
var ErrPassphrase = errors.New("wrong passphrase")

const (
	keysHeader = "vestigo-keys v1"
	// maxKeyFile bounds what LoadKeys reads: a key file is about 600 bytes.
	maxKeyFile = 64 << 10
)

// GenerateKeys makes new keys from rand: 32 bytes for the ed25519 seed, then
// 32 bytes for the X25519 scalar. A nil random means crypto/rand.
func GenerateKeys(random io.Reader) (*Keys, error) {
	if random == nil {
		random = rand.Reader
	}
	var seed, scalar [32]byte
	if _, err := io.ReadFull(random, seed[:]); err != nil {
		return nil, fmt.Errorf("casepack: reading randomness for the signing key: %w", err)
	}
	if _, err := io.ReadFull(random, scalar[:]); err != nil {
		return nil, fmt.Errorf("casepack: reading randomness for the age identity: %w", err)
	}
	id, err := x25519IdentityFromScalar(scalar[:])
	if err != nil {
		return nil, err
	}
	return &Keys{Sign: ed25519.NewKeyFromSeed(seed[:]), Age: id}, nil
}

// x25519IdentityFromScalar builds an age identity from a raw scalar through
// its Bech32 text form, the only constructor age exports.
func x25519IdentityFromScalar(scalar []byte) (*age.X25519Identity, error) {
	s, err := bech32Encode("age-secret-key-", scalar)
	if err != nil {
		return nil, fmt.Errorf("casepack: encoding the age identity: %w", err)
	}
	id, err := age.ParseX25519Identity(strings.ToUpper(s))
	if err != nil {
		return nil, fmt.Errorf("casepack: making the age identity: %w", err)
	}
	return id, nil
}

// Recipient is the age public key ("age1…") that partners encrypt packages
// to: what they pass to `vestigo case export --to`.
func (k *Keys) Recipient() string { return k.Age.Recipient().String() }

// SigningKey is the public ed25519 key that verifies this installation's
// packages.
func (k *Keys) SigningKey() ed25519.PublicKey {
	return k.Sign.Public().(ed25519.PublicKey)
}

// KeyID is the short fingerprint of a signing key: hex of the first 8 bytes
// of SHA-256 of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// check tells whether k is complete and its signing key consistent.
func (k *Keys) check() error {
	if k == nil || k.Age == nil {
		return errors.New("casepack: keys are missing")
	}
	if len(k.Sign) != ed25519.PrivateKeySize {
		return fmt.Errorf("casepack: signing key has %d bytes, want %d", len(k.Sign), ed25519.PrivateKeySize)
	}
	if !bytes.Equal(ed25519.NewKeyFromSeed(k.Sign.Seed()), k.Sign) {
		return errors.New("casepack: signing key's public half does not match its seed")
	}
	return nil
}

// SaveKeys writes k to a new file at path, encrypted with passphrase (age's
// scrypt recipient, armoured). The private keys are never written
// unencrypted: the file is written as a temporary file with mode 0600 in the
// same directory, synced, and linked into place, so path either does not
// exist or holds the whole file. An empty passphrase and an existing path
// are refused (the error wraps fs.ErrExist).
func SaveKeys(path string, k *Keys, passphrase []byte) error {
	if err := k.check(); err != nil {
		return err
	}
	if len(passphrase) == 0 {
		return errors.New("casepack: refusing to save keys with an empty passphrase")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("casepack: key file %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("casepack: key file: %w", err)
	}
	sr, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("casepack: passphrase: %w", err)
	}
	var plain bytes.Buffer
	fmt.Fprintf(&plain, "%s\ned25519-seed: %s\nage-identity: %s\n",
		keysHeader, base64.StdEncoding.EncodeToString(k.Sign.Seed()), k.Age.String())
	var out bytes.Buffer
	aw := armor.NewWriter(&out)
	ew, err := age.Encrypt(aw, sr)
	if err != nil {
		return fmt.Errorf("casepack: encrypting keys: %w", err)
	}
	if _, err := ew.Write(plain.Bytes()); err != nil {
		return fmt.Errorf("casepack: encrypting keys: %w", err)
	}
	if err := ew.Close(); err != nil {
		return fmt.Errorf("casepack: encrypting keys: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("casepack: encrypting keys: %w", err)
	}
	clear(plain.Bytes())
	return writeNewFile(path, out.Bytes())
}

// writeNewFile writes data to path through a temporary file in the same
// directory, with mode 0600, without ever replacing an existing path.
func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("casepack: key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link (or on failure) the temporary name goes
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("casepack: key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("casepack: key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("casepack: key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("casepack: key file: %w", err)
	}
	// A hard link is an atomic rename that refuses an existing target.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("casepack: key file %s: %w", path, fs.ErrExist)
		}
		// A file system without hard links: rename, after checking again.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("casepack: key file %s: %w", path, fs.ErrExist)
		}
		if rerr := os.Rename(tmp, path); rerr != nil {
			return fmt.Errorf("casepack: key file: %w (link: %v)", rerr, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil {
			return fmt.Errorf("casepack: key file: syncing %s: %w", dir, serr)
		}
	}
	return nil
}

// LoadKeys reads keys written by SaveKeys. A passphrase that does not open
// the file gives ErrPassphrase.
func LoadKeys(path string, passphrase []byte) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("casepack: key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("casepack: key file %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("casepack: key file %s: over %d bytes, not a key file", path, maxKeyFile)
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("casepack: key file %s: %w: empty passphrase", path, ErrPassphrase)
	}
	si, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("casepack: passphrase: %w", err)
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(data)), si)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, fmt.Errorf("casepack: key file %s: %w", path, ErrPassphrase)
		}
		return nil, fmt.Errorf("casepack: key file %s: not an encrypted key file: %w", path, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("casepack: key file %s: %w", path, err)
	}
	defer clear(plain)
	k, err := parseKeys(plain)
	if err != nil {
		return nil, fmt.Errorf("casepack: key file %s: %w", path, err)
	}
	return k, nil
}

// parseKeys reads the plaintext of a key file.
func parseKeys(plain []byte) (*Keys, error) {
	sc := bufio.NewScanner(bytes.NewReader(plain))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || lines[0] != keysHeader {
		return nil, fmt.Errorf("not a %q file", keysHeader)
	}
	seedText, ok1 := strings.CutPrefix(lines[1], "ed25519-seed: ")
	idText, ok2 := strings.CutPrefix(lines[2], "age-identity: ")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("malformed %q file", keysHeader)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(seedText)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("malformed ed25519 seed")
	}
	id, err := age.ParseX25519Identity(idText)
	if err != nil {
		return nil, fmt.Errorf("malformed age identity: %w", err)
	}
	return &Keys{Sign: ed25519.NewKeyFromSeed(seed), Age: id}, nil
}
