package casepack

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"testing/cryptotest"

	"filippo.io/age"
)

// FuzzRead feeds arbitrary archives to Read, encrypted to a fixed key: as a
// gzip stream (gzipped=false) or as a tar that the body gzips first, so the
// fuzzer reaches the tar and manifest checks. Read must never panic, must
// fail with one of its errors, and what it accepts must hold together.
func FuzzRead(f *testing.F) {
	in := newInstalls(f)
	entries := []Entry{{Path: "case.json", Data: []byte(`{"ref":"X"}`)}, {Path: "exhibits/a.txt", Data: []byte("a")}}
	plain := plainOf(f, in, sampleManifest(), entries)
	f.Add(plain, false)
	zr, err := gzip.NewReader(bytes.NewReader(plain))
	if err != nil {
		f.Fatal(err)
	}
	var tarBytes bytes.Buffer
	if _, err := tarBytes.ReadFrom(zr); err != nil {
		f.Fatal(err)
	}
	f.Add(tarBytes.Bytes(), true)
	a := []byte(`{"a":1}`)
	man, sig := signed(f, in, []ManifestEntry{entryOf("a.json", a)}, nil)
	for _, set := range [][]raw{
		{man, sig, file("files/a.json", a)},
		{man, sig, file("files/../a.json", a)},
		{man, sig, file("files/a.json", a), file("files/a.json", a)},
		{file("files/a.json", a), man, sig},
		{man},
	} {
		var buf bytes.Buffer
		craftTar(f, &buf, set)
		f.Add(buf.Bytes(), true)
	}
	f.Add([]byte{}, false)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), false)

	lim := Limits{MaxPackage: 4 << 20, MaxUncompressed: 1 << 20, MaxEntries: 64, MaxEntry: 256 << 10}
	ids := []age.Identity{in.recipient.Age}
	f.Fuzz(func(t *testing.T, data []byte, gzipped bool) {
		if gzipped {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(data)
			zw.Close()
			data = buf.Bytes()
		}
		// age's keys come from crypto/rand: a fixed stream keeps each
		// input's run, and so its coverage, the same.
		cryptotest.SetGlobalRandom(t, 1)
		pkg := encryptTo(t, data, in.recipient)
		p, err := Read(bytes.NewReader(pkg), ids, lim)
		if err != nil {
			for _, known := range []error{ErrNotForYou, ErrSignature, ErrTampered, ErrUnsafePath, ErrTooLarge, ErrFormat} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("an error of no kind: %v", err)
		}
		if !ed25519.Verify(p.SenderKey, p.ManifestJSON, p.Signature) || len(p.Entries) != len(p.Manifest.Entries) ||
			p.Manifest.Recipient != in.recipient.Recipient() || len(p.Entries) > lim.MaxEntries {
			t.Fatalf("accepted an inconsistent package: %+v", p.Manifest)
		}
		set := newPathSet()
		for i, e := range p.Entries {
			sum := sha256.Sum256(e.Data)
			me := p.Manifest.Entries[i]
			if me.Path != e.Path || me.Size != int64(len(e.Data)) || me.SHA256 != hex.EncodeToString(sum[:]) ||
				checkPath(e.Path) != nil || set.add(e.Path) != nil {
				t.Fatalf("accepted entry %q against %+v", e.Path, me)
			}
		}
		if sum := sha256.Sum256(pkg); p.Digest != hex.EncodeToString(sum[:]) {
			t.Fatal("digest")
		}
	})
}
