package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// serveBench is what vestigo bench serve measures.
type serveBench struct {
	Samples int `json:"samples"`
	// Sequential queries from one client over loopback, for the samples.
	History latency `json:"history"`
	Trace4  latency `json:"trace_4_hops"`
	Trace6  latency `json:"trace_6_hops"`
	// The load run.
	Clients   int                `json:"clients"`
	Seconds   float64            `json:"seconds"`
	Requests  int                `json:"requests"`
	PerSecond float64            `json:"requests_per_second"`
	All       latency            `json:"latency"`
	ByKind    map[string]latency `json:"by_kind"`
	Counts    map[string]int     `json:"counts"`
	Errors    int                `json:"errors"`
	FirstErr  string             `json:"first_error,omitempty"`
	// ServerPeakRSS is the server process's peak resident set (VmHWM).
	ServerPeakRSS int64 `json:"server_peak_rss_bytes"`
}

// benchSample is one random funded address and a transaction of it.
type benchSample struct{ addr, txid string }

func (a *app) benchServeCommand() *cobra.Command {
	var (
		asJSON   bool
		samples  int
		clients  int
		duration time.Duration
		seed     uint64
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Measure vestigo serve over loopback: query latencies, then a load run of many clients with tokens",
		Long: `Start vestigo serve on the data directory with a fresh case store, then (1)
from one client, for --samples random funded addresses: the address's history,
a 4-hop and a 6-hop forward haircut trace (no stop rules), p50/p95/p99; and (2)
--clients concurrent clients with API tokens for --duration, each request drawn
from a mix of address (30%), tx (25%), cluster (15%), 4-hop trace (15%) and a
note written into the client's case (15%): requests/s, latencies, errors and
the server's peak RSS. Loopback only.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if samples < 1 || clients < 1 || duration <= 0 {
				return usagef("--samples, --clients and --duration must be positive")
			}
			ctx := cmd.Context()
			picked, err := a.benchSamples(samples, seed)
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "vestigo-bench-serve-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dsn := filepath.Join(tmp, "cases.db")
			tokens, cases, err := a.benchAccounts(ctx, dsn, clients)
			if err != nil {
				return err
			}
			srv, err := startServer(ctx, a.dataDir, dsn)
			if err != nil {
				return err
			}
			defer srv.stop()
			res := serveBench{Samples: len(picked), Clients: clients, ByKind: map[string]latency{}, Counts: map[string]int{}}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients + 1}, Timeout: 5 * time.Minute}
			get := func(tok, path string) (time.Duration, error) {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.base+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				return roundTrip(hc, req)
			}
			// (1) Sequential latencies.
			var hist, t4, t6 []time.Duration
			for _, s := range picked {
				for _, q := range []struct {
					path string
					into *[]time.Duration
				}{
					{"/api/v1/address/" + s.addr + "?limit=100", &hist},
					{"/api/v1/trace/" + s.addr + "?hops=4&stop_at=none", &t4},
					{"/api/v1/trace/" + s.addr + "?hops=6&stop_at=none", &t6},
				} {
					d, err := get(tokens[0], q.path)
					if err != nil && !errors.Is(err, errNotFoundStatus) {
						return fmt.Errorf("bench serve: %s: %w", q.path, err)
					}
					*q.into = append(*q.into, d)
				}
			}
			res.History, res.Trace4, res.Trace6 = percentiles(hist), percentiles(t4), percentiles(t6)
			// (2) The load run.
			type obs struct {
				kind string
				d    time.Duration
				err  error
			}
			var mu sync.Mutex
			var all []obs
			runCtx, cancel := context.WithTimeout(ctx, duration)
			defer cancel()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
					var mine []obs
					for n := 0; runCtx.Err() == nil; n++ {
						s := picked[rng.IntN(len(picked))]
						var o obs
						var req *http.Request
						switch r := rng.IntN(100); {
						case r < 30:
							o.kind = "address"
							req, _ = http.NewRequest("GET", srv.base+"/api/v1/address/"+s.addr+"?limit=100", nil)
						case r < 55:
							o.kind = "tx"
							req, _ = http.NewRequest("GET", srv.base+"/api/v1/tx/"+s.txid, nil)
						case r < 70:
							o.kind = "cluster"
							req, _ = http.NewRequest("GET", srv.base+"/api/v1/cluster/"+s.addr+"?limit=100", nil)
						case r < 85:
							o.kind = "trace"
							req, _ = http.NewRequest("GET", srv.base+"/api/v1/trace/"+s.addr+"?hops=4&stop_at=none", nil)
						default:
							o.kind = "note"
							body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("client %d note %d on %s", c, n, s.addr)})
							req, _ = http.NewRequest("POST", fmt.Sprintf("%s/api/v1/cases/%d/notes", srv.base, cases[c]), bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
						}
						req.Header.Set("Authorization", "Bearer "+tokens[c])
						o.d, o.err = roundTrip(hc, req)
						if errors.Is(o.err, errNotFoundStatus) {
							o.err = nil // a generated address without a history page is an answer
						}
						if runCtx.Err() != nil && o.err != nil {
							break // cut by the end of the run
						}
						mine = append(mine, o)
					}
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
				}(c)
			}
			wg.Wait()
			res.Seconds = time.Since(start).Seconds()
			res.ServerPeakRSS = srv.peakRSS()
			by := map[string][]time.Duration{}
			var every []time.Duration
			for _, o := range all {
				res.Requests++
				res.Counts[o.kind]++
				if o.err != nil {
					res.Errors++
					if res.FirstErr == "" {
						res.FirstErr = o.kind + ": " + o.err.Error()
					}
					continue
				}
				by[o.kind] = append(by[o.kind], o.d)
				every = append(every, o.d)
			}
			for k, ds := range by {
				res.ByKind[k] = percentiles(ds)
			}
			res.All = percentiles(every)
			res.PerSecond = float64(res.Requests) / res.Seconds
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "over loopback, %d addresses: history p50/p95/p99 %.2f/%.2f/%.2f ms; 4-hop %.2f/%.2f/%.2f ms; 6-hop %.2f/%.2f/%.2f ms\n",
				res.Samples, res.History.P50, res.History.P95, res.History.P99, res.Trace4.P50, res.Trace4.P95, res.Trace4.P99,
				res.Trace6.P50, res.Trace6.P95, res.Trace6.P99)
			fmt.Fprintf(a.stdout, "load: %d clients for %.0f s: %d requests, %.0f/s, p50/p95/p99 %.2f/%.2f/%.2f ms, %d errors; server peak RSS %.0f MiB\n",
				res.Clients, res.Seconds, res.Requests, res.PerSecond, res.All.P50, res.All.P95, res.All.P99, res.Errors, float64(res.ServerPeakRSS)/(1<<20))
			for _, k := range []string{"address", "tx", "cluster", "trace", "note"} {
				l := res.ByKind[k]
				fmt.Fprintf(a.stdout, "  %-8s %6d  p50/p95/p99 %.2f/%.2f/%.2f ms\n", k, res.Counts[k], l.P50, l.P95, l.P99)
			}
			if res.FirstErr != "" {
				fmt.Fprintf(a.stdout, "first error: %s\n", res.FirstErr)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&samples, "samples", 1000, "random funded addresses")
	f.IntVar(&clients, "clients", 50, "concurrent clients of the load run")
	f.DurationVar(&duration, "duration", 60*time.Second, "length of the load run")
	f.Uint64Var(&seed, "seed", 42, "seed of the random choices")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// benchSamples picks n random addresses that received funds, with one of
// their transactions, then closes the workspace (the server needs it).
func (a *app) benchSamples(n int, seed uint64) ([]benchSample, error) {
	_, ix, err := a.onlyIndex()
	if err != nil {
		return nil, err
	}
	defer func() {
		a.ws.Close()
		a.ws = nil
	}()
	next := uint64(ix.Tip().NextAddr)
	if next < 2 {
		return nil, fmt.Errorf("bench serve: the index holds no address")
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e7e))
	var out []benchSample
	seen := map[index.AddrID]bool{}
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		id := index.AddrID(1 + rng.Uint64N(next-1))
		if seen[id] {
			continue
		}
		seen[id] = true
		hist, _, err := ix.History(id)
		if err != nil {
			return nil, err
		}
		if len(hist) == 0 {
			continue
		}
		addr, err := ix.Address(id)
		if err != nil {
			return nil, err
		}
		h, err := ix.TxidOf(hist[0].Key)
		if err != nil {
			return nil, err
		}
		out = append(out, benchSample{addr: addr, txid: h.String()})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench serve: no funded address found")
	}
	return out, nil
}

// benchAccounts makes an agency, an investigator per client with a token
// and a case each, in a fresh case store.
func (a *app) benchAccounts(ctx context.Context, dsn string, clients int) ([]string, []int64, error) {
	st, err := casestore.Open(ctx, dsn, casestore.Options{ExhibitDir: filepath.Join(filepath.Dir(dsn), "exhibits")})
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	ag, err := st.CreateAgency(ctx, "BENCH", "Benchmark agency")
	if err != nil {
		return nil, nil, err
	}
	pw := "bench admin password"
	if _, err := st.BootstrapAdmin(ctx, ag.ID, "admin", pw); err != nil {
		return nil, nil, err
	}
	admin, err := st.AuthenticatePassword(ctx, "admin", pw)
	if err != nil {
		return nil, nil, err
	}
	var tokens []string
	var cases []int64
	for c := 0; c < clients; c++ {
		name := fmt.Sprintf("client%d", c)
		u, err := st.CreateUser(ctx, admin, name, casestore.RoleInvestigator, "bench password "+name)
		if err != nil {
			return nil, nil, err
		}
		tok, _, err := st.CreateToken(ctx, admin, u.ID, "bench")
		if err != nil {
			return nil, nil, err
		}
		p, err := st.AuthenticateToken(ctx, tok)
		if err != nil {
			return nil, nil, err
		}
		cs, err := st.CreateCase(ctx, p, casestore.Case{Reference: "BENCH-" + strconv.Itoa(c), Title: "load run", Status: casestore.StatusOpen})
		if err != nil {
			return nil, nil, err
		}
		tokens, cases = append(tokens, tok), append(cases, cs.ID)
	}
	return tokens, cases, nil
}

// benchServer is a vestigo serve subprocess.
type benchServer struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startServer runs this binary's serve on a free loopback port and waits
// for its "serving on" line.
func startServer(ctx context.Context, dataDir, dsn string) (*benchServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "--data", dataDir, "--db", dsn, "serve", "--addr", "127.0.0.1:0", "--checkpoint-every", "0")
	cmd.Env = append(os.Environ(), workspace.EnvTSAURL+"=", workspace.EnvTSACA+"=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard // the access log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("bench serve: the server did not start: %w", err)
	}
	rest, ok := strings.CutPrefix(line, "serving on ")
	u, perr := url.Parse(strings.Fields(rest + " ")[0])
	if !ok || perr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("bench serve: unexpected first line %q", line)
	}
	s.base = u.String()
	go func() { io.Copy(io.Discard, out); s.done <- cmd.Wait() }()
	return s, nil
}

// peakRSS reads the server's VmHWM.
func (s *benchServer) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *benchServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// errNotFoundStatus marks a 404 answer.
var errNotFoundStatus = errors.New("404 not found")

// roundTrip sends req and reads the whole answer; a status other than 2xx
// is an error (404 is errNotFoundStatus).
func roundTrip(hc *http.Client, req *http.Request) (time.Duration, error) {
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return d, errNotFoundStatus
	case resp.StatusCode/100 != 2:
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return d, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	return d, nil
}
