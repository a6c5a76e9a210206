package internal_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/vestigo-forensics/vestigo"

// layers is the import table of DEVELOPERS.md: a package may import only
// packages of strictly lower layers. Every package must be listed here, so
// that placing a new one is a decision.
var layers = map[string]int{
	"internal/chain":       0, // chain-neutral domain types
	"internal/btc":         1, // chain adapters
	"internal/eth":         1,
	"internal/index":       2, // storage
	"internal/evmindex":    2, // the account-model index of EVM chains
	"internal/blockfile":   2, // sources
	"internal/btcrpc":      2,
	"internal/tags":        2, // SQLite tag store
	"internal/casestore":   2, // SQL case store (SQLite or PostgreSQL), users, audit log
	"internal/casepack":    2, // signed and encrypted case packages (format only)
	"internal/tsa":         2, // RFC 3161 time-stamping client
	"internal/prices":      2, // SQLite store of daily fiat price series
	"internal/export":      2, // CSV, XLSX, GraphML, GEXF and JSON writers (pure)
	"internal/ingest":      3, // sources → storage; analysis (cluster, trace, detect) joins this layer
	"internal/ethingest":   3, // EVM JSON-RPC → evmindex
	"internal/coinjoin":    3, // CoinJoin detectors
	"internal/change":      3, // change-output heuristics
	"internal/share":       3, // case packages from and into the case store
	"internal/backup":      3, // consistent backups of the case store and exhibits
	"internal/cluster":     4, // analysis over the index and other analyses
	"internal/trace":       4,
	"internal/detect":      4,
	"internal/scenario":    4, // cases, evidence, reports, seizure, scenarios
	"internal/ethscenario": 4, // generated Ethereum cases on a geth --dev node
	"internal/entity":      5, // attribution answers: index + clusters + tags
	"internal/evaluate":    5, // error rates against generated ground truth
	"internal/report":      5, // court reports: the model and its HTML and PDF renderers
	"internal/ethchaingen": 5, // large generated EVM chains for the ingest benchmark (uses ethscenario's contracts)
	"internal/fixture":     5, // test harness: imported by tests only
	"internal/testproc":    5, // test harness: processes of real programs (btcd, geth); tests and harnesses only
	"internal/workspace":   6, // the composition root
	"internal/btcdtest":    6, // test harness: imported by tests only
	"internal/pgtest":      6, // test harness: a real PostgreSQL; imported by tests only
	"internal/tsatest":     6, // test harness: a local RFC 3161 TSA (openssl ts); imported by tests only
	"internal/gethtest":    6, // test harness: a real geth --dev node; imported by tests only
	"internal/api":         7, // the REST API of vestigo serve
	"internal/web":         7, // the browser workspace in front of the API
	"internal/ethcase":     7, // test harness over gethtest: the Ethereum case played on geth and imported; tests only
	"cmd/vestigo":          8, // interfaces (CLI, the team server)
}

// testHarness are packages that only tests may import.
var testHarness = map[string]bool{"internal/btcdtest": true, "internal/fixture": true, "internal/pgtest": true, "internal/tsatest": true,
	"internal/gethtest": true, "internal/testproc": true, "internal/ethcase": true}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

func listPackages(t *testing.T, args ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestLayers(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok || rel == "internal" {
			continue // the module root or this test package
		}
		layer, ok := layers[rel]
		if !ok {
			t.Errorf("package %s is not in the layer table of internal/layers_test.go (and DEVELOPERS.md)", rel)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			if testHarness[dep] && !testHarness[rel] {
				t.Errorf("%s imports the test harness %s outside its tests", rel, dep)
			}
			if l, ok := layers[dep]; ok && l >= layer {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must go to lower layers", rel, layer, dep, l)
			}
		}
	}
}

// TestProductDoesNotLinkBtcdDatabase keeps btcd's database and indexers
// (the benchmark peer) out of the product.
func TestProductDoesNotLinkBtcdDatabase(t *testing.T) {
	for _, p := range listPackages(t, "-deps", "./cmd/vestigo") {
		for _, banned := range []string{"github.com/btcsuite/btcd/database", "github.com/btcsuite/btcd/blockchain"} {
			if strings.HasPrefix(p.ImportPath, banned) {
				t.Errorf("the vestigo binary links %s", p.ImportPath)
			}
		}
	}
}
