package index

import (
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TestSource: the source record round-trips and is refused read-only.
func TestSource(t *testing.T) {
	dir := t.TempDir()
	p, _ := btc.ParamsFor(chain.Regtest)
	ix, err := Open(dir, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ix.Source(); ok || err != nil {
		t.Fatalf("a new index has a source: %v %v", ok, err)
	}
	want := Source{Kind: "rpc", Location: "http://127.0.0.1:18334", NodeVersion: "btcd 0.26.2", Updated: time.Unix(1700000000, 0).UTC()}
	if err := ix.SetSource(want); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ro, err := Open(dir, p, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, ok, err := ro.Source()
	if err != nil || !ok || got != want {
		t.Fatalf("source %+v %v %v", got, ok, err)
	}
	if err := ro.SetSource(want); err == nil {
		t.Fatal("a read-only index recorded a source")
	}
}
