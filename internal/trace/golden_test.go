package trace

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/graphs")

// graph is a hand-written ledger with the traces and path searches to run
// on it (testdata/graphs/*.json); the results are kept next to it as
// *.golden.json and compared on every run. Regenerate with -update after
// checking the change by hand.
type graph struct {
	About string `json:"about"`
	Txs   []struct {
		Height int64       `json:"height"`
		Ins    [][2]int    `json:"ins"`  // [index of the transaction in this list, vout]
		Outs   [][2]uint64 `json:"outs"` // [address id, value]
	} `json:"txs"`
	Traces []struct {
		From index.AddrID `json:"from"`
		// FromSet traces from an entity instead of one address.
		FromSet   []index.AddrID `json:"from_set"`
		Direction Direction      `json:"direction"`
		Model     Model          `json:"model"`
		Hops      int            `json:"hops"`
		Stop      []index.AddrID `json:"stop"`
		// Change follows only change: [index of the transaction, change vout].
		Change [][2]int `json:"change"`
	} `json:"traces"`
	Paths []struct {
		From, To index.AddrID
		// FromSet and ToSet search between entities.
		FromSet []index.AddrID `json:"from_set"`
		ToSet   []index.AddrID `json:"to_set"`
		Hops, K int
	} `json:"paths"`
	// Patterns, when set, runs every typology detector over the whole
	// ledger with these thresholds, and from each listed address.
	Patterns *struct {
		Options detect.Options `json:"options"`
		From    []index.AddrID `json:"from"`
	} `json:"patterns"`
}

func TestGoldenGraphs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "graphs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no graphs: %v", err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g graph
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			b := newBook()
			var keys []index.TxKey
			for _, tx := range g.Txs {
				var ins []Outpoint
				for _, in := range tx.Ins {
					ins = append(ins, Outpoint{keys[in[0]], uint32(in[1])})
				}
				var outs []pay
				for _, o := range tx.Outs {
					outs = append(outs, pay{index.AddrID(o[0]), o[1]})
				}
				keys = append(keys, b.add(tx.Height, ins, outs...))
			}
			type out struct {
				Traces   []*Result
				Paths    []*PathResult
				Patterns [][]detect.Finding `json:",omitempty"`
			}
			var got out
			for _, q := range g.Traces {
				stop := q.Stop
				p := Params{Direction: q.Direction, Model: q.Model, Hops: q.Hops}
				if len(stop) > 0 {
					p.Stop = func(a index.AddrID) (bool, string, error) {
						for _, s := range stop {
							if s == a {
								return true, "stop", nil
							}
						}
						return false, "", nil
					}
				}
				if len(q.Change) > 0 {
					change := map[index.TxKey]int{}
					for _, c := range q.Change {
						change[keys[c[0]]] = c[1]
					}
					p.Change = func(rec *index.TxRecord) (int, bool, error) {
						v, ok := change[rec.Key]
						return v, ok, nil
					}
				}
				from := q.FromSet
				if len(from) == 0 {
					from = []index.AddrID{q.From}
				}
				r, err := FromAddresses(b, from, p)
				if err != nil {
					t.Fatal(err)
				}
				r.Params.Stop, r.Params.Change = nil, nil
				got.Traces = append(got.Traces, r)
			}
			for _, q := range g.Paths {
				from, to := q.FromSet, q.ToSet
				if len(from) == 0 {
					from = []index.AddrID{q.From}
				}
				if len(to) == 0 {
					to = []index.AddrID{q.To}
				}
				r, err := PathsBetween(b, from, to, PathParams{Hops: q.Hops, K: q.K})
				if err != nil {
					t.Fatal(err)
				}
				got.Paths = append(got.Paths, r)
			}
			if g.Patterns != nil {
				fs, err := detect.Range(b, 0, -1, g.Patterns.Options)
				if err != nil {
					t.Fatal(err)
				}
				got.Patterns = append(got.Patterns, fs)
				for _, a := range g.Patterns.From {
					fs, err := detect.Address(b, a, g.Patterns.Options)
					if err != nil {
						t.Fatal(err)
					}
					got.Patterns = append(got.Patterns, fs)
				}
			}
			js, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, js, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update once and check the file)", err)
			}
			if !bytes.Equal(js, want) {
				t.Fatalf("%s differs from the golden file; if the change is right, run go test ./internal/trace -update\n%s", golden, js)
			}
		})
	}
}
