package main

import (
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/share"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) caseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "case",
		Short: "Cases: create, list, show, add items, notes and exhibits, export to and import from partner agencies",
		Long: `Cases hold what an investigation found, each fact with its provenance, every
action in the audit log. You act as a user of your agency: --user NAME with
the password in $VESTIGO_PASSWORD (or asked), or an API token in
$VESTIGO_TOKEN. CASE is a case's id or its reference.`,
	}
	cmd.AddCommand(a.caseCreateCommand(), a.caseListCommand(), a.caseShowCommand(), a.caseAddCommand(), a.caseNoteCommand(),
		a.caseExhibitCommand(), a.caseExportCommand(), a.caseImportCommand(), a.caseExportFindingCommand(), a.caseExportGraphCommand())
	return cmd
}

// withCase opens the store, authenticates and resolves the CASE argument.
func (a *app) withCase(cmd *cobra.Command, arg string) (*workspace.Workspace, *casestore.Store, casestore.Principal, int64, error) {
	ws, st, p, err := a.signedIn(cmd)
	if err != nil {
		return nil, nil, casestore.Principal{}, 0, err
	}
	id, err := caseID(cmd.Context(), st, p, arg)
	return ws, st, p, id, err
}

func (a *app) caseCreateCommand() *cobra.Command {
	var c casestore.Case
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --ref REFERENCE --title TITLE [--legal-basis TEXT]",
		Short: "Open a case in your agency",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			c.Status, c.LeadUserID = casestore.StatusOpen, p.UserID
			out, err := st.CreateCase(cmd.Context(), p, c)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(out)
			}
			fmt.Fprintf(a.stdout, "case %s opened, id %d\n", out.Reference, out.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Reference, "ref", "", "the case's reference, unique in your agency (e.g. 2026/0137)")
	f.StringVar(&c.Title, "title", "", "the case's title")
	f.StringVar(&c.LegalBasis, "legal-basis", "", "the legal basis of the investigation (order, article)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseListCommand() *cobra.Command {
	var status string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--status open|closed|archived]",
		Short: "List your agency's cases",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			var all []casestore.Case
			for off := 0; ; off += 1000 {
				cs, err := st.ListCases(cmd.Context(), p, casestore.CaseFilter{Status: casestore.CaseStatus(status), Limit: 1000, Offset: off})
				if err != nil {
					return err
				}
				all = append(all, cs...)
				if len(cs) < 1000 {
					break
				}
			}
			if asJSON {
				if all == nil {
					all = []casestore.Case{}
				}
				return a.printJSON(all)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "ID\tREFERENCE\tSTATUS\tOPENED\tORIGIN\tTITLE\n")
			for _, c := range all {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Reference, c.Status, c.Opened.UTC().Format("2006-01-02"), orDash(c.OriginAgency), c.Title)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only cases of this status")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CASE",
		Short: "Show a case: its items, notes, findings, exhibits and tasks (recorded as a view)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, id, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var v struct {
				Case     casestore.Case            `json:"case"`
				Items    []casestore.Item          `json:"items"`
				Notes    []casestore.Note          `json:"notes"`
				Findings []casestore.Finding       `json:"findings"`
				Exhibits []casestore.Exhibit       `json:"exhibits"`
				Tasks    []casestore.Task          `json:"tasks"`
				Subjects []casestore.Subject       `json:"subjects"`
				Overlaps []casestore.DeconflictHit `json:"overlaps"`
			}
			if v.Case, err = st.GetCase(ctx, p, id); err != nil {
				return err
			}
			if v.Items, err = st.ListItems(ctx, p, id); err != nil {
				return err
			}
			if v.Notes, err = st.ListNotes(ctx, p, id); err != nil {
				return err
			}
			if v.Findings, err = st.ListFindings(ctx, p, id); err != nil {
				return err
			}
			if v.Exhibits, err = st.ListExhibits(ctx, p, id); err != nil {
				return err
			}
			if v.Tasks, err = st.ListTasks(ctx, p, id); err != nil {
				return err
			}
			if v.Subjects, err = st.ListSubjects(ctx, p, id); err != nil {
				return err
			}
			if v.Overlaps, err = st.Deconflict(ctx, p, id); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(v)
			}
			c := v.Case
			fmt.Fprintf(a.stdout, "Case %s (id %d): %s\n", c.Reference, c.ID, c.Title)
			fmt.Fprintf(a.stdout, "Status %s, opened %s; legal basis: %s\n", c.Status, c.Opened.UTC().Format("2006-01-02"), orDash(c.LegalBasis))
			if c.OriginAgency != "" {
				fmt.Fprintf(a.stdout, "Imported from %s (sender key %s, package %s) on %s\n", c.OriginAgency, c.OriginSenderKeyID,
					c.OriginPackageDigest, c.ImportedAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(a.stdout, "\nItems (%d)\n", len(v.Items))
			w := table(a.stdout)
			for _, it := range v.Items {
				fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Kind, it.Network, it.Ref, orDash(it.Label), it.Provenance.Source)
			}
			w.Flush()
			fmt.Fprintf(a.stdout, "\nNotes (%d)\n", len(v.Notes))
			for _, n := range v.Notes {
				fmt.Fprintf(a.stdout, "  %d (item %d, %s): %s\n", n.ID, n.ItemID, n.CreatedAt.UTC().Format("2006-01-02 15:04"), n.Text)
			}
			fmt.Fprintf(a.stdout, "\nFindings (%d)\n", len(v.Findings))
			for _, f := range v.Findings {
				fmt.Fprintf(a.stdout, "  %d %s: %s (index tip %d %s)\n", f.ID, f.Kind, f.Title, f.Provenance.IndexTip, f.Provenance.BlockHash)
			}
			fmt.Fprintf(a.stdout, "\nExhibits (%d)\n", len(v.Exhibits))
			for _, e := range v.Exhibits {
				stamp := "not time-stamped"
				if len(e.TSAToken) > 0 {
					stamp = "RFC 3161 time-stamped"
				}
				fmt.Fprintf(a.stdout, "  %d %s (%s, %d bytes) sha256 %s, %s\n", e.ID, e.Name, e.MediaType, e.Size, e.SHA256, stamp)
			}
			fmt.Fprintf(a.stdout, "\nTasks (%d), subjects (%d)\n", len(v.Tasks), len(v.Subjects))
			if len(v.Overlaps) > 0 {
				fmt.Fprintf(a.stdout, "\n%d items also appear in other cases (vestigo deconflict %s)\n", len(v.Overlaps), c.Reference)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseAddCommand() *cobra.Command {
	var kind, label string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add CASE REF [--kind address|tx|entity] [--label TEXT]",
		Short: "Add an item of interest (an address, a transaction or an entity) with its provenance",
		Long: `Add an address, a transaction or an entity (entity:ADDRESS or entity:ID) to a
case. An item found in an index is recorded in canonical form with the
index's provenance (source, network, tip); one on no index needs --network
and must be valid there. --kind is guessed from REF when not given.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, st, p, id, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			ref := strings.TrimSpace(args[1])
			k := casestore.ItemKind(kind)
			if k == "" {
				switch {
				case strings.HasPrefix(ref, workspace.EntityPrefix):
					k = casestore.ItemEntity
				case isHash(ref):
					k = casestore.ItemTx
				default:
					k = casestore.ItemAddress
				}
			}
			it, err := ws.ResolveItem(workspace.ItemRequest{Kind: k, Ref: ref, Network: a.network, Label: label, Via: "cli", Version: vestigoVersion()})
			if err != nil {
				return err
			}
			if it, err = st.AddItem(cmd.Context(), p, id, it); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(it)
			}
			fmt.Fprintf(a.stdout, "item %d: %s %s (%s) added; provenance: %s, tip %d\n", it.ID, it.Kind, it.Ref, it.Network, it.Provenance.Source, it.Provenance.IndexTip)
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "address, tx or entity (guessed when empty)")
	cmd.Flags().StringVar(&label, "label", "", "a label for the item")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseNoteCommand() *cobra.Command {
	var item int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "note CASE TEXT [--item ID]",
		Short: "Add a note to a case or to one of its items",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, id, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			n, err := st.AddNote(cmd.Context(), p, id, item, args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(n)
			}
			fmt.Fprintf(a.stdout, "note %d added\n", n.ID)
			return nil
		},
	}
	cmd.Flags().Int64Var(&item, "item", 0, "the item the note is about (default: the case)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseExhibitCommand() *cobra.Command {
	var name, mediaType string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "exhibit CASE FILE [--name NAME] [--media-type TYPE]",
		Short: "Attach a file to a case: stored by its SHA-256, time-stamped when a TSA is configured",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, id, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			if name == "" {
				name = filepath.Base(args[1])
			}
			if mediaType == "" {
				if mediaType = mime.TypeByExtension(filepath.Ext(name)); mediaType == "" {
					mediaType = "application/octet-stream"
				}
			}
			ex, err := st.AddExhibit(cmd.Context(), p, id, name, mediaType, f)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ex)
			}
			stamp := "not time-stamped (no TSA configured)"
			if len(ex.TSAToken) > 0 {
				stamp = "time-stamped (RFC 3161)"
			}
			fmt.Fprintf(a.stdout, "exhibit %d: %s, %d bytes, sha256 %s, %s\n", ex.ID, ex.Name, ex.Size, ex.SHA256, stamp)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the exhibit's name (default: the file's)")
	cmd.Flags().StringVar(&mediaType, "media-type", "", "its media type (default: from the extension)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) caseExportCommand() *cobra.Command {
	var to, redact, out, agency string
	var asJSON, anyRecipient bool
	cmd := &cobra.Command{
		Use:   "export CASE --to RECIPIENT_PUBLIC_KEY -o FILE [--redact FIELDS]",
		Short: "Write a signed, encrypted case package for a partner agency",
		Long: `Write CASE as a case package for a partner agency: a deterministic archive of
the case, its exhibits, its audit records and a manifest of hashes, signed with
this installation's key and encrypted to the partner's public key (an age1…
recipient of a partner: vestigo keys partners lists them; another key needs
--to-unknown-recipient).
--redact leaves parts out: ` + strings.Join(share.Redactions(), ", ") + `.
The export is recorded in the audit log.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" || out == "" {
				return usagef("give the partner's public key with --to and the package file with -o")
			}
			ws, k, err := a.installationKeys(false)
			if err != nil {
				return err
			}
			partners, err := ws.Partners()
			if err != nil {
				return err
			}
			known := slices.ContainsFunc(partners, func(p casepack.Identity) bool { return p.Recipient == to })
			if !known && !anyRecipient {
				return usagef("%s is not the key of a partner (vestigo keys partners); check it, or add --to-unknown-recipient", to)
			}
			if agency == "" {
				if data, err := os.ReadFile(ws.IdentityPath()); err == nil {
					if id, err := casepack.ParseIdentity(data); err == nil {
						agency = id.Agency
					}
				}
			}
			_, st, p, id, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			if agency == "" {
				agency = p.Agency
			}
			var fields []string
			for _, f := range strings.Split(redact, ",") {
				if f = strings.TrimSpace(f); f != "" {
					fields = append(fields, f)
				}
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), ".vestigo-package-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			m, err := share.Export(cmd.Context(), st, p, id, k, share.ExportOptions{Recipient: to, Redact: fields, Agency: agency,
				Version: vestigoVersion(), Now: time.Now().UTC()}, tmp)
			if err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "case %s written to %s for %s: %d files, signed by key %s", m.CaseRef, out, m.Recipient, len(m.Entries), m.SenderKeyID)
			if len(m.Redacted) > 0 {
				fmt.Fprintf(a.stdout, "; redacted: %s", strings.Join(m.Redacted, ", "))
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the partner's public key (age1…)")
	f.StringVar(&redact, "redact", "", "comma-separated parts to leave out")
	f.StringVarP(&out, "output", "o", "", "the package file to write")
	f.StringVar(&agency, "agency", "", "how the package names your agency (default: your identity's)")
	f.BoolVar(&anyRecipient, "to-unknown-recipient", false, "send to a key that is not a partner's")
	f.BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return cmd
}

func (a *app) caseImportCommand() *cobra.Command {
	var acceptUnknown, asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a case package from a partner agency: verified, decrypted, kept with its origin",
		Long: `Import a case package sent to this installation. The signature and every hash
are verified and the archive is checked (size, decompression, paths) before
anything is stored; the sender must be a partner (vestigo keys add-partner)
unless --accept-unknown-sender. The case keeps its origin agency, the
package's digest and the provenance of every item and finding.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, k, err := a.installationKeys(false)
			if err != nil {
				return err
			}
			partners, err := ws.Partners()
			if err != nil {
				return err
			}
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rep, err := share.Import(cmd.Context(), st, p, f, k, share.ImportOptions{Partners: partners, AcceptUnknown: acceptUnknown})
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(rep)
			}
			who := "a known partner"
			if !rep.KnownSender {
				who = "an UNKNOWN sender (accepted with --accept-unknown-sender)"
			}
			fmt.Fprintf(a.stdout, "case %s imported as id %d from %s, %s (key %s); %d items, %d findings, %d exhibits, %d audit records of the sender\n",
				rep.Case.Reference, rep.Case.ID, rep.Manifest.OriginAgency, who, rep.Manifest.SenderKeyID, rep.Items, rep.Findings, rep.Exhibits, rep.AuditRecords)
			return nil
		},
	}
	cmd.Flags().BoolVar(&acceptUnknown, "accept-unknown-sender", false, "import from a sender that is not a partner")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func isHash(s string) bool {
	_, err := workspace.ParseHash(s)
	return err == nil
}
