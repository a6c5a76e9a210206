package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// app carries what every command shares: the streams, the global flags and
// the workspace (opened on first use).
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dataDir        string
	chain          string
	network        string
	chainID        uint64
	verbose        bool
	ws             *workspace.Workspace
	wsOpt          workspace.Options
	cf             caseFlags
	// closers close what commands opened besides the workspace (the case
	// store), in reverse order, when the run ends.
	closers []func() error
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a clean stop (work so far is committed); a
	// second one kills the process the default way.
	go func() {
		<-ctx.Done()
		stop()
	}()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "vestigo: internal error: %v\n", r)
			code = exitFailure
		}
	}()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	for i := len(a.closers) - 1; i >= 0; i-- {
		if cerr := a.closers[i](); err == nil && cerr != nil {
			err = cerr
		}
	}
	if a.ws != nil {
		if cerr := a.ws.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	return report(stderr, err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vestigo",
		Short: "Vestigo: trace, attribute and document cryptocurrency flows on your own hardware",
		Long: `Vestigo indexes a blockchain on your own machine and answers an investigator's
questions about its blocks, transactions and addresses, exactly and reproducibly.

Start with:
  vestigo import btc --blocks ~/.bitcoin/blocks     (Bitcoin Core block files)
  vestigo sync btc --rpc http://127.0.0.1:8332 --rpc-cookie ~/.bitcoin/.cookie
  vestigo import eth --rpc http://127.0.0.1:8545     (Ethereum or any EVM chain)
then ask: vestigo tx TXID, vestigo address ADDR, vestigo block HEIGHT, vestigo status.
Attribution: vestigo tags import PACKS, vestigo cluster ADDR, vestigo tags ADDR,
vestigo cluster explain ADDR1 ADDR2, vestigo screen --file LIST.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if a.chain != "" && a.chain != string(chain.Bitcoin) && a.chain != string(chain.Ethereum) {
			return usagef("--chain %q is not supported (btc, eth)", a.chain)
		}
		if a.network != "" {
			p, err := btc.ParamsFor(chain.Network(a.network))
			if err != nil {
				return usageError{err}
			}
			a.network = string(p.Network) // testnet3 → testnet
		}
		return nil
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dataDir, "data", workspace.DefaultDir(), "data directory (env "+workspace.EnvData+")")
	pf.StringVar(&a.chain, "chain", "", "chain of the input, when it cannot be told from its format (btc, eth)")
	pf.Uint64Var(&a.chainID, "chain-id", 0, "EVM chain of 0x input, when several EVM chains are indexed (1: Ethereum mainnet)")
	pf.StringVar(&a.network, "network", "", "network of the input: mainnet, testnet, testnet4, signet or regtest")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log what happens to stderr")
	pf.StringVar(&a.cf.db, "db", os.Getenv(workspace.EnvDB), "case store: a SQLite file or postgres://… (default DATA/cases.db; env "+workspace.EnvDB+")")
	pf.StringVar(&a.cf.user, "user", os.Getenv(envUser), "user of the case store (env "+envUser+"; password in $"+envPassword+" or asked)")
	pf.StringVar(&a.cf.tsaURL, "tsa-url", os.Getenv(workspace.EnvTSAURL), "RFC 3161 time-stamping authority (env "+workspace.EnvTSAURL+")")
	pf.StringVar(&a.cf.tsaCA, "tsa-ca", os.Getenv(workspace.EnvTSACA), "PEM file of the CA of the TSA (env "+workspace.EnvTSACA+")")
	root.AddCommand(
		a.importCommand(), a.syncCommand(), a.txCommand(), a.addressCommand(), a.blockCommand(),
		a.statusCommand(), a.indexCommand(), a.generateCommand(), a.benchCommand(),
		a.clusterCommand(), a.tagsCommand(), a.screenCommand(), a.heuristicsCommand(), a.traceCommand(), a.pathCommand(), a.depositsCommand(), a.exposureCommand(), a.patternsCommand(), a.riskCommand(),
		a.serveCommand(), a.agencyCommand(), a.userCommand(), a.tokenCommand(), a.keysCommand(), a.caseCommand(),
		a.auditCommand(), a.deconflictCommand(), a.backupCommand(), a.restoreCommand(),
		a.reportCommand(), a.pricesCommand(),
	)
	return root
}

func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// workspace opens the data directory once per run.
func (a *app) workspace() (*workspace.Workspace, error) {
	if a.ws != nil {
		return a.ws, nil
	}
	opt := a.wsOpt
	opt.Logger = a.logger()
	ws, err := workspace.Open(a.dataDir, opt)
	if err != nil {
		return nil, err
	}
	a.ws = ws
	return ws, nil
}

// readWorkspace opens the data directory for queries: read-only, so that
// answering never changes the store.
func (a *app) readWorkspace() (*workspace.Workspace, error) {
	a.wsOpt.ReadOnly = true
	return a.workspace()
}

// onlyIndex opens the data directory for queries and returns the one index
// that --chain and --network leave (a usage error when several do).
func (a *app) onlyIndex() (*workspace.Workspace, *index.Index, error) {
	ws, err := a.readWorkspace()
	if err != nil {
		return nil, nil, err
	}
	ix, err := ws.Only(a.selector())
	return ws, ix, err
}

func (a *app) selector() workspace.Selector {
	return workspace.Selector{Chain: chain.Chain(a.chain), Network: chain.Network(a.network), ChainID: a.chainID}
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see vestigo %s --help)", cmd.CommandPath(), n, len(args), cmd.Name())
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs reporting a usage error.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %d to %d argument(s), got %d (see vestigo %s --help)", cmd.CommandPath(), lo, hi, len(args), cmd.Name())
		}
		return nil
	}
}
