package backup

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// rewrite returns data with store.jsonl edited and the manifest made to
// match, as whoever can rewrite a backup file would do.
func rewrite(t *testing.T, data []byte, edit func(dump []byte) []byte) []byte {
	t.Helper()
	es, files := unpack(t, data)
	var m *Manifest
	m, err := parseManifest(files[ManifestFile], DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	dump := edit(bytes.Clone(files[StoreFile]))
	if bytes.Equal(dump, files[StoreFile]) {
		t.Fatal("the edit changed nothing")
	}
	sum := sha256.Sum256(dump)
	m.Files[0] = FileEntry{Path: StoreFile, Size: int64(len(dump)), SHA256: hex.EncodeToString(sum[:])}
	es[0].data = must[[]byte](t)(marshalManifest(m))
	es[1].data = dump
	return pack(t, es)
}

func TestRestoreVerifies(t *testing.T) {
	ctx := context.Background()
	for _, to := range backends {
		t.Run("sqlite_to_"+to.name, func(t *testing.T) {
			src := open(t, backends[0].dsn(t))
			populate(t, src)
			data, _ := backup(t, src)
			// The note's text changed in a rewritten backup.
			bad := rewrite(t, data, func(d []byte) []byte {
				return bytes.Replace(d, []byte(`a note\nwith two lines`), []byte(`a note\nwith 2 lines`), 1)
			})
			dst := open(t, to.dsn(t))
			m, rep, err := RestoreVerified(ctx, dst.st, bytes.NewReader(bad), RestoreOptions{})
			if !errors.Is(err, ErrUntrusted) || !errors.Is(err, casestore.ErrVerification) || m != nil {
				t.Fatalf("restore of a rewritten backup: %v", err)
			}
			if rep == nil || !strings.HasPrefix(rep.First(), "note 1: stored content differs from audit record") ||
				!strings.Contains(err.Error(), rep.First()) {
				t.Fatalf("report %+v, error %v", rep, err)
			}
			if !must[bool](t)(dst.st.Empty(ctx)) {
				t.Fatal("a restore that does not verify left rows")
			}
			if n := len(exhibitFiles(t, dst.exhibitDir)); n != 0 {
				t.Fatalf("a restore that does not verify left %d exhibit files", n)
			}
			// Restore (without a verifier) refuses it too.
			if _, err := Restore(ctx, dst.st, bytes.NewReader(bad), Limits{}); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("Restore of a rewritten backup: %v", err)
			}
			// The intact backup restores into the same store afterwards.
			if _, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{}); err != nil {
				t.Fatal(err)
			}
			verify(t, dst)
		})
	}
}

func TestRestoreWithAnchors(t *testing.T) {
	ctx := context.Background()
	src := open(t, backends[0].dsn(t))
	populate(t, src)
	var anchors bytes.Buffer
	for _, cp := range must[[]casestore.Checkpoint](t)(src.st.ListCheckpoints(ctx)) {
		if err := casestore.AppendAnchor(&anchors, cp); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := backup(t, src)
	keys := []ed25519.PublicKey{signer.Public().(ed25519.PublicKey)}
	read := func() []casestore.Checkpoint {
		return must[[]casestore.Checkpoint](t)(casestore.ReadAnchors(bytes.NewReader(anchors.Bytes())))
	}

	dst := open(t, backends[0].dsn(t))
	_, rep, err := RestoreVerified(ctx, dst.st, bytes.NewReader(data), RestoreOptions{
		Verifier: casestore.Verifier{SigningKeys: keys, Anchors: read()}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Anchors != 1 || rep.Anchored == 0 {
		t.Fatalf("report %+v", rep)
	}

	// The source goes on and checkpoints again: a backup older than an
	// anchor lacks records the anchor vouches for, and is refused.
	must[casestore.Agency](t)(src.st.CreateAgency(ctx, "LATER", "after the backup"))
	cp := must[casestore.Checkpoint](t)(src.st.Checkpoint(ctx, signer))
	if err := casestore.AppendAnchor(&anchors, cp); err != nil {
		t.Fatal(err)
	}
	dst2 := open(t, backends[0].dsn(t))
	_, rep, err = RestoreVerified(ctx, dst2.st, bytes.NewReader(data), RestoreOptions{
		Verifier: casestore.Verifier{SigningKeys: keys, Anchors: read()}})
	if !errors.Is(err, ErrUntrusted) || rep == nil || !strings.Contains(rep.First(), "checkpoint anchor of record") {
		t.Fatalf("restore of a backup older than an anchor: %v, %+v", err, rep)
	}
	if !must[bool](t)(dst2.st.Empty(ctx)) {
		t.Fatal("rows left behind")
	}
}

func TestBackupWithoutSessions(t *testing.T) {
	ctx := context.Background()
	src := open(t, backends[0].dsn(t))
	populate(t, src)
	p := must[casestore.Principal](t)(src.st.AuthenticatePassword(ctx, "ivan", pw))
	secret, _, _, err := src.st.CreateSession(ctx, p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := backup(t, src)
	_, files := unpack(t, data)
	if bytes.Contains(files[StoreFile], []byte(`"sessions"`)) || bytes.Contains(files[StoreFile], []byte(secret)) {
		t.Fatal("the backup holds sessions")
	}
	dst := open(t, backends[0].dsn(t))
	if _, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{}); err != nil {
		t.Fatal(err)
	}
	verify(t, dst)
	if _, _, err := dst.st.Session(ctx, secret); !errors.Is(err, casestore.ErrUnauthorized) {
		t.Fatalf("a session survived the restore: %v", err)
	}
	// The original still has it.
	if _, _, err := src.st.Session(ctx, secret); err != nil {
		t.Fatal(err)
	}
}
