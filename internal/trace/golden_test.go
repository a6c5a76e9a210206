package trace

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		From      index.AddrID   `json:"from"`
		Direction Direction      `json:"direction"`
		Model     Model          `json:"model"`
		Hops      int            `json:"hops"`
		Stop      []index.AddrID `json:"stop"`
	} `json:"traces"`
	Paths []struct {
		From, To index.AddrID
		Hops, K  int
	} `json:"paths"`
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
				Traces []*Result
				Paths  []*PathResult
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
				r, err := FromAddress(b, q.From, p)
				if err != nil {
					t.Fatal(err)
				}
				r.Params.Stop = nil
				got.Traces = append(got.Traces, r)
			}
			for _, q := range g.Paths {
				r, err := Paths(b, q.From, q.To, PathParams{Hops: q.Hops, K: q.K})
				if err != nil {
					t.Fatal(err)
				}
				got.Paths = append(got.Paths, r)
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
