package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// TestStagerSortsAndKeepsLastWrite compares the stager with a map of last
// writes and a sort, on keys that share long prefixes and repeat.
func TestStagerSortsAndKeepsLastWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for round := 0; round < 3; round++ {
		var s stager
		want := map[string]string{}
		for i := 0; i < 20000; i++ {
			var k []byte
			switch rng.IntN(5) {
			case 4: // a busy address: one long run of equal first bytes
				k = append([]byte("o\x00\x00\x00\x01\x07\x00\x00"), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(4)))
			case 0: // short keys, many repeats
				k = []byte{byte('a' + rng.IntN(3)), byte(rng.IntN(4))}
			case 1: // equal first 8 bytes, differing later
				k = append([]byte("prefix!!"), byte(rng.IntN(50)), byte(rng.IntN(50)))
			default:
				k = binaryKey(rng.Uint64(), rng.IntN(12))
			}
			v := []byte(fmt.Sprint(round, i))
			s.set(k, v)
			want[string(k)] = string(v)
		}
		b := db.NewBatch()
		if err := s.sortInto(b, 0, nil); err != nil {
			t.Fatal(err)
		}
		var got []string
		r := b.Reader()
		for {
			kind, k, v, ok, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if kind != pebble.InternalKeyKindSet || want[string(k)] != string(v) {
				t.Fatalf("key %x: got %q, want %q", k, v, want[string(k)])
			}
			got = append(got, string(k))
		}
		if len(got) != len(want) || !slices.IsSortedFunc(got, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) }) {
			t.Fatalf("round %d: %d keys (want %d), sorted %v", round, len(got), len(want), slices.IsSorted(got))
		}
		if s.len() != 0 {
			t.Fatal("stager not emptied")
		}
		b.Close()
	}
}

func binaryKey(x uint64, n int) []byte {
	k := make([]byte, 0, 8+n)
	for i := 0; i < 8; i++ {
		k = append(k, byte(x>>(56-8*i)))
	}
	for i := 0; i < n; i++ {
		k = append(k, byte(x*uint64(i+3)))
	}
	return k
}
