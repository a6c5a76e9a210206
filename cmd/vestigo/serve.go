package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/api"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/web"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Timeouts of the team server. Reading a request may take as long as an
// exhibit upload; writing as long as the longest analysis.
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 10 * time.Minute
	serveWriteTimeout      = 10 * time.Minute
	serveIdleTimeout       = 2 * time.Minute
	serveShutdownTimeout   = 30 * time.Second
	serveMaxHeaderBytes    = 64 << 10
)

func (a *app) serveCommand() *cobra.Command {
	var (
		addr            string
		maxExhibit      int64
		sessionTTL      time.Duration
		checkpointEvery time.Duration
		trustedProxies  []string
		secureCookies   bool
		webDir          string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the team server: the web workspace and the JSON API",
		Long: `Run the team server on --addr: the web workspace at / (search, address,
transaction, block, entity and case pages, the fund-flow graph), and a
versioned JSON API under /api/v1/ for every
question the command line answers (the same JSON as --json) and for case
management (cases, items, notes, findings, exhibits, tasks, the audit log,
users and tokens), described by /api/v1/openapi.json. /healthz answers without
credentials; everything else needs a session (POST /api/v1/login) or an
"Authorization: Bearer" token.

The indexes of the data directory are opened read-only (and held: stop the
server to import or sync). Cases live in --db: a SQLite file (default
DATA/cases.db) or a postgres:// URL for a team; exhibit files under
DATA/exhibits, time-stamped when a TSA is configured (--tsa-url, --tsa-ca).
With the installation's passphrase in $VESTIGO_PASSPHRASE, the server signs a
checkpoint of the audit log every --checkpoint-every. It listens on 127.0.0.1
by default: to serve a network, put a TLS reverse proxy in front of it and
name it with --trusted-proxy (its X-Forwarded-For is then the client's
address for the login rate limit, and X-Forwarded-Proto https marks the
session cookie Secure). It
stops cleanly on SIGINT or SIGTERM, finishing the requests under way.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxExhibit <= 0 {
				return usagef("--max-exhibit must be positive")
			}
			if sessionTTL <= 0 || sessionTTL > 30*24*time.Hour {
				return usagef("--session-ttl must be between 0 and 720h")
			}
			var proxies []*net.IPNet
			for _, p := range trustedProxies {
				if !strings.Contains(p, "/") {
					if strings.Contains(p, ":") {
						p += "/128"
					} else {
						p += "/32"
					}
				}
				_, n, err := net.ParseCIDR(p)
				if err != nil {
					return usagef("--trusted-proxy %q is not an address or a CIDR range", p)
				}
				proxies = append(proxies, n)
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ts, err := a.tsaConfig()
			if err != nil {
				return err
			}
			log := a.serverLogger()
			store, err := ws.Cases(cmd.Context(), workspace.CaseOptions{DSN: a.cf.db, TSA: ts, MaxExhibit: maxExhibit})
			if err != nil {
				return err
			}
			defer store.Close()
			verifier, err := ws.Verifier(a.cf.db, ts)
			if err != nil {
				return err
			}
			var signer ed25519.PrivateKey
			if os.Getenv(workspace.EnvPassphrase) != "" && checkpointEvery > 0 {
				k, err := ws.Keys([]byte(os.Getenv(workspace.EnvPassphrase)), false)
				if err != nil {
					return err
				}
				signer = k.Sign
			} else if checkpointEvery > 0 {
				log.Warn("no checkpoints of the audit log: set " + workspace.EnvPassphrase + " (the installation keys sign them)")
			}
			srv, err := api.New(api.Config{Workspace: ws, Store: store, Logger: log, Clock: time.Now, Version: vestigoVersion(),
				MaxExhibit: maxExhibit, SessionTTL: sessionTTL, Verifier: verifier,
				TrustedProxies: proxies, SecureCookies: secureCookies})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			handler, err := web.Handler(web.Config{API: srv.Handler(), Dir: webDir})
			if err != nil {
				return err
			}
			hs := &http.Server{
				Handler:           handler,
				ReadHeaderTimeout: serveReadHeaderTimeout,
				ReadTimeout:       serveReadTimeout,
				WriteTimeout:      serveWriteTimeout,
				IdleTimeout:       serveIdleTimeout,
				MaxHeaderBytes:    serveMaxHeaderBytes,
				ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			}
			fmt.Fprintf(a.stdout, "serving on http://%s (workspace /, api /api/v1/, health /healthz)\n", ln.Addr())
			done := make(chan error, 1)
			go func() { done <- hs.Serve(ln) }()
			if signer != nil {
				go checkpoints(cmd.Context(), store, signer, checkpointEvery, log, func(cp casestore.Checkpoint) error {
					return ws.AppendAnchor(a.cf.db, cp)
				})
			}
			select {
			case err := <-done:
				return fmt.Errorf("serve: %w", err)
			case <-cmd.Context().Done():
			}
			log.Info("shutting down: finishing the requests under way")
			ctx, cancel := context.WithTimeout(context.Background(), serveShutdownTimeout)
			defer cancel()
			if err := hs.Shutdown(ctx); err != nil {
				return fmt.Errorf("serve: shut down: %w", err)
			}
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	f.DurationVar(&checkpointEvery, "checkpoint-every", time.Hour, "sign a checkpoint of the audit log this often (0: never)")
	f.StringSliceVar(&trustedProxies, "trusted-proxy", nil, "reverse proxy (address or CIDR) whose X-Forwarded-For/-Proto are believed")
	f.BoolVar(&secureCookies, "secure-cookies", false, "always mark session cookies Secure (the server is only reached over TLS)")
	f.Int64Var(&maxExhibit, "max-exhibit", api.DefaultMaxExhibit, "largest exhibit upload in bytes")
	f.DurationVar(&sessionTTL, "session-ttl", api.DefaultSessionTTL, "how long a login lasts")
	f.StringVar(&webDir, "web-dir", "", "serve the web workspace from this directory instead of the embedded build (development)")
	_ = f.MarkHidden("web-dir")
	return cmd
}

// checkpoints signs the audit log's head every period.
func checkpoints(ctx context.Context, st *casestore.Store, signer ed25519.PrivateKey, every time.Duration, log *slog.Logger,
	anchor func(casestore.Checkpoint) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cp, err := st.Checkpoint(ctx, signer)
		if err != nil {
			log.Error("checkpoint of the audit log failed", "err", err)
			continue
		}
		if err := anchor(cp); err != nil {
			log.Error("writing the checkpoint's anchor failed", "err", err)
		}
		log.Info("audit log checkpoint", "seq", cp.Seq, "head", cp.HeadHash, "time-stamped", len(cp.TSAToken) > 0)
	}
}

// serverLogger is the server's log on stderr: one line per request
// (method, path, status, duration, user), more with --verbose.
func (a *app) serverLogger() *slog.Logger {
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

// vestigoVersion is the module version the binary was built from.
func vestigoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}
