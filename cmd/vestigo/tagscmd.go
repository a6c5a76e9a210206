package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

func (a *app) tagsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tags ADDRESS",
		Short: "Show every tag of an address and of its cluster, each with its source",
		Long: `Show every tag of an address: its own ("direct") and those of the other
addresses of its cluster ("cluster", indirect: they hold only as far as the
clustering does), each with label, category, source, confidence, the pack
(file) it came from and that file's SHA-256. No tag is hidden or ranked.

  vestigo tags import PATH   import GraphSense TagPacks, OFAC lists or CSV
  vestigo tags add ...       add your own tag
  vestigo tags export        write your own tags as a TagPack`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, addr, err := a.attributionOf(args[0], true)
			if err != nil {
				return err
			}
			ts, err := svc.TagsOf(cmd.Context(), addr)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ts)
			}
			a.printTags(ts)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.tagsImportCommand(), a.tagsAddCommand(), a.tagsExportCommand())
	return cmd
}

func (a *app) tagsImportCommand() *cobra.Command {
	var (
		format string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "import PATH",
		Short: "Import tags from a file or a folder of files",
		Long: `Import attribution tags from a file or every recognised file of a folder:
GraphSense TagPacks and ActorPacks (YAML), the OFAC SDN advanced XML, the OFAC
legacy SDN.CSV and SDN_COMMENTS.CSV, the one-address-per-line OFAC lists
(sanctioned_addresses_<TICKER>.txt) and plain CSV with the header
address,label,category,source[,confidence].

Each file imports whole or not at all: an invalid address or field is reported
as FILE:LINE and nothing of that file is stored. Re-importing an unchanged file
does nothing; a changed file replaces its earlier tags.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			st, err := ws.Tags()
			if err != nil {
				return err
			}
			res, err := st.Import(cmd.Context(), args[0], tags.Format(format), time.Now().UTC())
			if err != nil {
				return err
			}
			var failed []error
			for _, r := range res {
				if r.Error != "" {
					failed = append(failed, errors.New(r.Error))
				}
			}
			if asJSON {
				if err := a.printJSON(res); err != nil {
					return err
				}
			} else {
				w := table(a.stdout)
				for _, r := range res {
					status := fmt.Sprintf("%s, %d tags", r.Status, r.Tags)
					if r.Actors > 0 {
						status += fmt.Sprintf(", %d actors", r.Actors)
					}
					if r.Error != "" {
						status = "FAILED: " + r.Error
					}
					fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.Format, status)
				}
				w.Flush()
				// What an analyst must know: entries kept with a problem
				// (for example an address OFAC lists under the wrong currency).
				for _, r := range res {
					for _, n := range r.Notes {
						fmt.Fprintf(a.stdout, "  note: %s\n", n)
					}
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d files failed, nothing of them was imported; first: %w", len(failed), len(res), errors.Join(failed[0], chain.ErrInvalid))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "tagpack, actorpack, ofac-xml, ofac-csv, ofac-list, etherscan-csv or csv (default: detect)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) tagsAddCommand() *cobra.Command {
	var t tags.Tag
	cmd := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Add your own tag to an address",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if t.Label == "" || t.Creator == "" || t.Source == "" {
				return usagef("--label, --source and --creator are required")
			}
			t.Address = args[0]
			if t.Currency == "" {
				t.Currency = "BTC"
			}
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			st, err := ws.Tags()
			if err != nil {
				return err
			}
			if err := st.AddUserTag(cmd.Context(), t, time.Now().UTC()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tagged %s %q\n", t.Address, t.Label)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&t.Label, "label", "", "label")
	f.StringVar(&t.Category, "category", "", "GraphSense entity category (exchange, mixing_service, …)")
	f.StringVar(&t.Abuse, "abuse", "", "GraphSense abuse concept (ransomware, scam, …)")
	f.StringVar(&t.Source, "source", "", "where the attribution comes from (a document, a case number, a URL)")
	f.StringVar(&t.Confidence, "confidence", "", "GraphSense confidence id (default: the store's default for user tags)")
	f.StringVar(&t.Creator, "creator", "", "who made the attribution")
	f.StringVar(&t.Currency, "currency", "BTC", "currency of the address")
	return cmd
}

func (a *app) tagsExportCommand() *cobra.Command {
	var creator, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write your own tags as a GraphSense TagPack",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if creator == "" {
				return usagef("--creator is required (the TagPack's creator)")
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			st, err := ws.Tags()
			if err != nil {
				return err
			}
			if st == nil {
				return fmt.Errorf("no tags in %s: %w", ws.Dir(), chain.ErrNotFound)
			}
			w := a.stdout
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.Create(out); err != nil {
					return err
				}
				w = f
			}
			err = st.ExportUserPack(cmd.Context(), w, creator)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&creator, "creator", "", "creator of the tags to export")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "file to write (- for standard output)")
	return cmd
}
