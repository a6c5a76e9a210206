package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The CLI is tested as users run it: the real binary in a subprocess.
var vestigoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vestigo-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vestigoBin = filepath.Join(dir, "vestigo")
	if out, err := exec.Command("go", "build", "-o", vestigoBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build vestigo: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func vestigo(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(vestigoBin, args...)
	cmd.Env = append(os.Environ(), "VESTIGO_DATA=") // only --data counts
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run vestigo %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// ok runs a command that must succeed.
func ok(t *testing.T, args ...string) result {
	t.Helper()
	r := vestigo(t, args...)
	if r.code != 0 {
		t.Fatalf("vestigo %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs a command that must fail with code and one line on stderr
// containing want.
func fails(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	r := vestigo(t, args...)
	if r.code != code {
		t.Fatalf("vestigo %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "vestigo: ") || !strings.Contains(r.stderr, want) {
		t.Fatalf("vestigo %s: stderr is not one line containing %q:\n%s", strings.Join(args, " "), want, r.stderr)
	}
}

func jsonOf(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	return m
}

func mainnetFile(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd module: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "blockchain", "testdata", "blk_0_to_14131.dat"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func blocksDir(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

const (
	tx170   = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	satoshi = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
	hal     = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
)

func TestMainnetImportAndQueries(t *testing.T) {
	data := t.TempDir()
	blocks := blocksDir(t, mainnetFile(t))
	r := ok(t, "--data", data, "import", "btc", "--blocks", blocks)
	if !strings.Contains(r.stdout, "tip: block 14131 ") {
		t.Fatalf("import summary: %s", r.stdout)
	}

	tx := jsonOf(t, ok(t, "--data", data, "tx", tx170, "--json"))
	for _, f := range []string{"txid", "block_height", "block_hash", "time", "fee", "inputs", "outputs"} {
		if _, ok := tx[f]; !ok {
			t.Errorf("tx JSON lacks %q", f)
		}
	}
	if tx["block_height"].(float64) != 170 || tx["fee"].(float64) != 0 {
		t.Fatalf("tx: %v", tx)
	}
	in := tx["inputs"].([]any)[0].(map[string]any)
	if in["prev_txid"] != "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9" || in["prev_vout"].(float64) != 0 ||
		in["address"] != satoshi || in["value"].(float64) != 5e9 {
		t.Fatalf("input: %v", in)
	}
	outs := tx["outputs"].([]any)
	o0, o1 := outs[0].(map[string]any), outs[1].(map[string]any)
	if o0["n"].(float64) != 0 || o0["address"] != hal || o0["script_type"] != "p2pk" || o0["value"].(float64) != 1e9 ||
		o1["address"] != satoshi || o1["value"].(float64) != 4e9 {
		t.Fatalf("outputs: %v", outs)
	}
	if _, ok := o1["spent_by_txid"]; !ok {
		t.Errorf("Satoshi's change of tx 170 is spent later in these blocks, spent_by_txid missing: %v", o1)
	}

	addr := jsonOf(t, ok(t, "--data", data, "address", hal, "--json", "--limit", "1"))
	for _, f := range []string{"address", "balance", "total_received", "total_sent", "tx_count", "first_seen_height", "last_seen_height", "txs"} {
		if _, ok := addr[f]; !ok {
			t.Errorf("address JSON lacks %q", f)
		}
	}
	txs := addr["txs"].([]any)
	if addr["first_seen_height"].(float64) != 170 || len(txs) != 1 || txs[0].(map[string]any)["txid"] != tx170 ||
		txs[0].(map[string]any)["received"].(float64) != 1e9 {
		t.Fatalf("address: %v", addr)
	}
	page2 := jsonOf(t, ok(t, "--data", data, "address", satoshi, "--json", "--limit", "1", "--offset", "1"))
	if p := page2["txs"].([]any); len(p) != 1 || page2["tx_count"].(float64) < 2 {
		t.Fatalf("second page: %v", page2)
	}

	b := jsonOf(t, ok(t, "--data", data, "block", "170", "--json"))
	if b["hash"] != "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee" || b["tx_count"].(float64) != 2 {
		t.Fatalf("block: %v", b)
	}
	byHash := jsonOf(t, ok(t, "--data", data, "block", "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee", "--json"))
	if byHash["height"].(float64) != 170 {
		t.Fatalf("block by hash: %v", byHash)
	}
	st := jsonOf(t, ok(t, "--data", data, "status", "--json"))
	nets := st["networks"].([]any)
	n := nets[0].(map[string]any)
	if len(nets) != 1 || n["network"] != "mainnet" || n["tip_height"].(float64) != 14131 || n["txs"].(float64) != 14247 || n["store_bytes"].(float64) <= 0 {
		t.Fatalf("status: %v", st)
	}
	if r := ok(t, "--data", data, "index", "verify"); !strings.Contains(r.stdout, "OK: every invariant holds") {
		t.Fatalf("verify: %s", r.stdout)
	}
	// Text output works too.
	if r := ok(t, "--data", data, "tx", tx170); !strings.Contains(r.stdout, "10.00000000 BTC") {
		t.Fatalf("text tx: %s", r.stdout)
	}
}

func TestBadInput(t *testing.T) {
	data := t.TempDir()
	full := mainnetFile(t)
	ok(t, "--data", data, "import", "btc", "--blocks", blocksDir(t, full), "--to", "500")
	digest := func() string {
		m := jsonOf(t, ok(t, "--data", data, "status", "--json"))
		n := m["networks"].([]any)[0].(map[string]any)
		delete(n, "store_bytes") // files come and go as the store compacts
		return fmt.Sprint(n) + ok(t, "--data", data, "address", satoshi, "--json", "--limit", "0").stdout
	}
	before := digest()

	fails(t, exitUsage, "not a hash", "--data", data, "tx", "zzzz")
	fails(t, exitUsage, "not a hash", "--data", data, "tx", strings.Repeat("g", 64))
	fails(t, exitNotFound, "not in", "--data", data, "tx", strings.Repeat("ab", 32))
	fails(t, exitUsage, "not a Bitcoin address", "--data", data, "address", "1notanaddress")
	fails(t, exitUsage, "not a Bitcoin address", "--data", data, "address", "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm4") // bad checksum
	fails(t, exitNotFound, "not in", "--data", data, "address", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
	fails(t, exitNotFound, "not in", "--data", data, "block", "99999")
	fails(t, exitUsage, "neither a block height", "--data", data, "block", "12ab")
	fails(t, exitUsage, "limit", "--data", data, "address", hal, "--limit", "-1")
	fails(t, exitUsage, "unknown flag", "--data", data, "tx", tx170, "--bogus")
	fails(t, exitFailure, "no index", "--data", t.TempDir(), "tx", tx170)
	fails(t, exitUsage, "unknown network", "--data", data, "--network", "simnet", "status")
	fails(t, exitUsage, "takes EVM input", "--data", data, "--chain", "eth", "tx", tx170)
	fails(t, exitUsage, "not supported", "--data", data, "--chain", "ltc", "tx", tx170)
	if r := ok(t, "--data", data, "--network", "testnet3", "status", "--json"); !strings.Contains(r.stdout, `"networks": []`) {
		t.Fatalf("--network testnet3 (an alias of testnet) on a mainnet-only data dir: %s", r.stdout)
	}

	// Bad block files: nothing is written, the store stays verifiable.
	truncated := blocksDir(t, full[:1<<20+12345])
	fails(t, exitUsage, "blk00000.dat", "--data", data, "import", "btc", "--blocks", truncated)
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	fails(t, exitUsage, "blk00000.dat", "--data", data, "import", "btc", "--blocks", blocksDir(t, garbage))
	fails(t, exitUsage, "testnet", "--data", data, "--network", "testnet", "import", "btc", "--blocks", blocksDir(t, full[:300000]))
	corrupt := append([]byte(nil), full[:1<<20]...)
	off, size := record(t, full, 600)
	corrupt[off+size-10] ^= 0xff // a byte inside block 600's transactions: its merkle root no longer matches
	fails(t, exitUsage, "", "--data", data, "import", "btc", "--blocks", blocksDir(t, corrupt))
	fails(t, exitFailure, "no such file", "--data", data, "import", "btc", "--blocks", filepath.Join(t.TempDir(), "nope"))

	// Bad nodes.
	fails(t, exitFailure, "cannot reach", "--data", data, "sync", "btc", "--rpc", "http://127.0.0.1:1")
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"result": {"unexpected": true}, "error": null, "id": 1}`))
	}))
	defer hostile.Close()
	fails(t, exitFailure, "", "--data", data, "sync", "btc", "--rpc", hostile.URL)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	}))
	defer html.Close()
	fails(t, exitFailure, "", "--data", data, "sync", "btc", "--rpc", html.URL)
	fails(t, exitUsage, "--rpc", "--data", data, "sync", "btc")
	fails(t, exitUsage, "scheme", "--data", data, "sync", "btc", "--rpc", "ftp://127.0.0.1:1")

	if after := digest(); after != before {
		t.Fatalf("bad input changed the store:\n%s\n%s", before, after)
	}
	if r := ok(t, "--data", data, "index", "verify"); !strings.Contains(r.stdout, "OK") {
		t.Fatal(r.stdout)
	}
}

// TestImportSurvivesSIGKILL kills the importer at random moments until it
// finishes, then checks the store against an import that was never killed.
func TestImportSurvivesSIGKILL(t *testing.T) {
	full := mainnetFile(t)
	blocks := blocksDir(t, full)
	clean := t.TempDir()
	ok(t, "--data", clean, "import", "btc", "--blocks", blocks)

	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatal("import never finished")
		}
		cmd := exec.Command(vestigoBin, "--data", data, "import", "btc", "--blocks", blocks, "--commit-kb", "256")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("import failed after %d kills: %v\n%s", kills, err, errb.String())
			}
		case <-time.After(time.Duration(5+rng.IntN(40+20*attempt)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
			continue
		}
		break
	}
	if kills < 3 {
		t.Fatalf("the import was killed only %d times; the test proves little", kills)
	}
	t.Logf("finished after %d SIGKILLs", kills)
	compareStores(t, clean, data, []string{tx170}, []string{satoshi, hal})
}

// record returns the offset and size of the block of the given height in
// the mainnet file (its records are in height order).
func record(t *testing.T, file []byte, height int) (int, int) {
	t.Helper()
	off := 0
	for h := 0; off+8 <= len(file); h++ {
		size := int(file[off+4]) | int(file[off+5])<<8 | int(file[off+6])<<16 | int(file[off+7])<<24
		if h == height {
			return off + 8, size
		}
		off += 8 + size
	}
	t.Fatalf("no block %d", height)
	return 0, 0
}

// compareStores checks that two data directories answer the same.
func compareStores(t *testing.T, want, got string, txids, addrs []string) {
	t.Helper()
	if r := ok(t, "--data", got, "index", "verify"); !strings.Contains(r.stdout, "OK") {
		t.Fatal(r.stdout)
	}
	status := func(dir string) string {
		m := jsonOf(t, ok(t, "--data", dir, "status", "--json"))
		n := m["networks"].([]any)[0].(map[string]any)
		return fmt.Sprint(n["tip_height"], n["tip_hash"], n["txs"], n["inputs"], n["outputs"], n["addresses"])
	}
	if a, b := status(want), status(got); a != b {
		t.Fatalf("status differs: %s vs %s", a, b)
	}
	for _, tx := range txids {
		if a, b := ok(t, "--data", want, "tx", tx, "--json").stdout, ok(t, "--data", got, "tx", tx, "--json").stdout; a != b {
			t.Fatalf("tx %s differs:\n%s\n%s", tx, a, b)
		}
	}
	for _, ad := range addrs {
		a := ok(t, "--data", want, "address", ad, "--json", "--limit", "0", "--unspent").stdout
		b := ok(t, "--data", got, "address", ad, "--json", "--limit", "0", "--unspent").stdout
		if a != b {
			t.Fatalf("address %s differs", ad)
		}
	}
}

// TestImportStopsCleanlyOnSIGINT interrupts an import: it must say so in
// one line, exit 130, keep what it committed, and resume.
func TestImportStopsCleanlyOnSIGINT(t *testing.T) {
	blocks := blocksDir(t, mainnetFile(t))
	data := t.TempDir()
	interrupted := 0
	for delay := 30 * time.Millisecond; ; delay *= 2 {
		cmd := exec.Command(vestigoBin, "--data", data, "import", "btc", "--blocks", blocks, "--commit-kb", "128")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay) // not synchronisation: the moment of the interruption is arbitrary
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		if err == nil {
			break // finished before the signal
		}
		ee, isExit := err.(*exec.ExitError)
		if isExit && errb.Len() == 0 {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
				if delay > 10*time.Second {
					t.Fatal("the import never set its signal handler")
				}
				continue // the signal came before the program set its handler (a loaded machine): try later
			}
		}
		if !isExit || ee.ExitCode() != exitInterrupted || strings.Count(errb.String(), "\n") != 1 ||
			!strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("interrupted import: %v, stderr %q", err, errb.String())
		}
		interrupted++
		if delay > 10*time.Second {
			t.Fatal("the import never finished")
		}
	}
	if interrupted == 0 {
		t.Fatal("the import finished before the first signal; the test proves nothing")
	}
	if r := ok(t, "--data", data, "index", "verify"); !strings.Contains(r.stdout, "OK") {
		t.Fatal(r.stdout)
	}
}
