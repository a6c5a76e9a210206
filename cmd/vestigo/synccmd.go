package main

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/ingest"
)

func (a *app) syncCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Synchronise the index with a node",
	}
	cmd.AddCommand(a.syncBTCCommand())
	return cmd
}

func (a *app) syncBTCCommand() *cobra.Command {
	var (
		url, user, pass, cookie string
		follow, asJSON          bool
		poll                    time.Duration
		cacheMB, commitKB       int
	)
	cmd := &cobra.Command{
		Use:   "btc --rpc URL",
		Short: "Synchronise from a Bitcoin Core or btcd node over JSON-RPC",
		Long: `Bring the index to the node's best block: blocks the node no longer has (a
reorganisation) are rolled back to the fork point, missing blocks are fetched
and added. With --follow, keep polling for new blocks until interrupted;
every round is committed durably. The network is the node's.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				return usagef("--rpc URL is required")
			}
			if cookie != "" && (user != "" || pass != "") {
				return usagef("use either --rpc-cookie or --rpc-user/--rpc-pass, not both")
			}
			if a.chain != "" && a.chain != string(chain.Bitcoin) {
				return usagef("sync btc synchronises Bitcoin; --chain %s does not apply", a.chain)
			}
			c, err := btcrpc.New(btcrpc.Config{URL: url, User: user, Pass: pass, CookieFile: cookie, Logger: a.logger()})
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			p, err := c.Network(ctx)
			if err != nil {
				return err
			}
			if a.network != "" && chain.Network(a.network) != p.Network {
				return usagef("the node is on %s, not %s", p.Network, a.network)
			}
			node, err := c.NodeInfo(ctx)
			if err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(a.stderr, "node: %s %s on %s at %s\n", node.Kind, node.Version, p.Network, c.URL())
			}
			a.wsOpt.CacheBytes = int64(cacheMB) << 20 / 4
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			ix, err := ws.Index(p.Ledger(), true)
			if err != nil {
				return err
			}
			loc := c.URL()
			if u, err := neturl.Parse(loc); err == nil {
				u.User = nil
				loc = u.String()
			}
			if err := ix.SetSource(index.Source{Kind: "rpc", Location: loc, NodeVersion: strings.TrimSpace(string(node.Kind) + " " + node.Version),
				Updated: time.Now().UTC()}); err != nil {
				return err
			}
			followCtx, stopFollow := context.WithCancel(ctx)
			defer stopFollow()
			var clusterErr error
			bar := newBlockProgress(a.stderr, "syncing")
			opt := ingest.SyncOptions{
				Options: ingest.Options{Logger: a.logger(), Progress: bar.update, Writer: writerOptions(cacheMB, commitKB)},
				Follow:  follow,
				Poll:    poll,
			}
			if follow {
				opt.OnRetry = func(err error, wait time.Duration) {
					fmt.Fprintf(a.stderr, "vestigo: %v; retrying in %s\n", err, wait)
				}
				opt.OnCommit = func(t index.Tip) {
					// Clusters follow the index block by block.
					if _, err := a.updateClusters(followCtx, ws, p.Ledger(), cluster.Options{Adopt: true}, false); err != nil {
						if clusterErr == nil {
							clusterErr = err
							stopFollow()
						}
						return
					}
					if !asJSON && !isTerminal(a.stderr) {
						fmt.Fprintf(a.stderr, "tip: block %d %s (indexed and clustered)\n", t.Height, t.Hash)
					}
				}
			}
			st, err := ingest.Sync(followCtx, ix, c, opt)
			bar.done()
			if st != nil && (err == nil || errors.Is(err, ctx.Err())) {
				a.printImport("synced", p.Network, st, asJSON)
			}
			if clusterErr != nil && ctx.Err() == nil {
				return clusterErr
			}
			if err != nil {
				return err
			}
			if follow && ctx.Err() != nil {
				return nil // stopped: the next run clusters what is missing
			}
			return a.clusterAfterIngest(ctx, ws, p.Ledger(), asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "rpc", "", "node JSON-RPC URL, e.g. http://127.0.0.1:8332")
	f.StringVar(&user, "rpc-user", "", "RPC user name")
	f.StringVar(&pass, "rpc-pass", "", "RPC password")
	f.StringVar(&cookie, "rpc-cookie", "", "Bitcoin Core cookie file (.cookie) instead of user and password")
	f.BoolVar(&follow, "follow", false, "keep following new blocks until interrupted")
	f.DurationVar(&poll, "poll", 2*time.Second, "how often to ask the node for new blocks when following")
	f.IntVar(&cacheMB, "cache", 1024, "memory for caches in MiB")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	addCommitFlag(f, &commitKB)
	return cmd
}
