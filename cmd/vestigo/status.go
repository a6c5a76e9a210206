package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

type ledgerStatus struct {
	Chain      chain.Chain   `json:"chain"`
	Network    chain.Network `json:"network"`
	TipHeight  int64         `json:"tip_height"`
	TipHash    string        `json:"tip_hash"`
	TipTime    *time.Time    `json:"tip_time,omitempty"`
	Blocks     int64         `json:"blocks"`
	Txs        uint64        `json:"txs"`
	Inputs     uint64        `json:"inputs"`
	Outputs    uint64        `json:"outputs"`
	Addresses  uint64        `json:"addresses"`
	StoreBytes int64         `json:"store_bytes"`
	Dir        string        `json:"dir"`
}

type statusReport struct {
	DataDir  string         `json:"data_dir"`
	Networks []ledgerStatus `json:"networks"`
	// EVMChains are the indexes of Ethereum and other EVM chains.
	EVMChains []workspace.EVMStatus `json:"evm_chains"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the data directory holds: each network's tip, counts and store size",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ls, err := ws.Ledgers()
			if err != nil {
				return err
			}
			rep := statusReport{DataDir: ws.Dir(), Networks: []ledgerStatus{}}
			for _, l := range ls {
				if a.network != "" && l.Network != chain.Network(a.network) {
					continue
				}
				ix, err := ws.Index(l, false)
				if err != nil {
					return err
				}
				t := ix.Tip()
				size, err := ix.DiskSize()
				if err != nil {
					return err
				}
				s := ledgerStatus{Chain: l.Chain, Network: l.Network, TipHeight: t.Height, Blocks: t.Height + 1,
					Txs: t.Txs, Inputs: t.Inputs, Outputs: t.Outputs, Addresses: uint64(t.NextAddr - 1), StoreBytes: size, Dir: ix.Dir()}
				if t.Height >= 0 {
					s.TipHash = t.Hash.String()
					b, err := ix.Block(t.Height, false)
					if err != nil {
						return err
					}
					s.TipTime = &b.Time
				}
				rep.Networks = append(rep.Networks, s)
			}
			if rep.EVMChains, err = ws.EVMStatuses(a.selector()); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(rep)
			}
			fmt.Fprintf(a.stdout, "Data directory %s\n", rep.DataDir)
			if len(rep.Networks)+len(rep.EVMChains) == 0 {
				fmt.Fprintln(a.stdout, "No index yet: run vestigo import btc --blocks DIR, vestigo sync btc --rpc URL or vestigo import eth --rpc URL.")
			}
			for _, s := range rep.Networks {
				w := table(a.stdout)
				fmt.Fprintf(w, "\n%s %s\n", s.Chain, s.Network)
				switch {
				case s.TipHeight < 0:
					fmt.Fprintf(w, "  Tip\tempty\n")
				case s.TipTime == nil:
					fmt.Fprintf(w, "  Tip\tblock %d  %s\n", s.TipHeight, s.TipHash)
				default:
					fmt.Fprintf(w, "  Tip\tblock %d  %s  %s\n", s.TipHeight, s.TipHash, when(*s.TipTime))
				}
				fmt.Fprintf(w, "  Transactions\t%d (%d inputs, %d outputs)\n", s.Txs, s.Inputs, s.Outputs)
				fmt.Fprintf(w, "  Addresses\t%d\n", s.Addresses)
				fmt.Fprintf(w, "  Store\t%.1f MiB in %s\n", float64(s.StoreBytes)/(1<<20), s.Dir)
				w.Flush()
			}
			for _, s := range rep.EVMChains {
				w := table(a.stdout)
				fmt.Fprintf(w, "\n%s (EVM chain id %d, %s)\n", s.Name, s.ChainID, s.Symbol)
				if s.TipHeight == nil {
					fmt.Fprintf(w, "  Tip\tempty\n")
				} else {
					fmt.Fprintf(w, "  Tip\tblock %d  %s  %s\n", *s.TipHeight, s.TipHash, when(*s.TipTime))
				}
				fmt.Fprintf(w, "  Transactions\t%d (%d moves)\n", s.Txs, s.Moves)
				fmt.Fprintf(w, "  Addresses\t%d (%d tokens)\n", s.Addresses, s.Tokens)
				if s.UntracedBlocks > 0 {
					fmt.Fprintf(w, "  Untraced\t%d blocks without internal transfers\n", s.UntracedBlocks)
				}
				fmt.Fprintf(w, "  Store\t%s\n", s.Dir)
				w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
