package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The installation's keys and partner agencies: init, show, add-partner, partners",
		Long: `Each installation has an ed25519 key that signs the case packages it sends and
the audit log's checkpoints, and an age key that decrypts the packages sent to
it. Both are stored encrypted with the passphrase in $VESTIGO_PASSPHRASE (or
asked). Give partners your public identity (vestigo keys show); add theirs
with vestigo keys add-partner, so that their packages are accepted.`,
	}
	cmd.AddCommand(a.keysInitCommand(), a.keysShowCommand(), a.keysAddPartnerCommand(), a.keysPartnersCommand())
	return cmd
}

func (a *app) keysInitCommand() *cobra.Command {
	var agency string
	cmd := &cobra.Command{
		Use:   "init --agency NAME",
		Short: "Create the installation's keys (encrypted with the passphrase) and its public identity",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if agency == "" {
				return usagef("name your agency with --agency (partners see it in your identity)")
			}
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			if _, err := os.Stat(ws.KeysPath()); err == nil {
				return usagef("the installation already has keys in %s", ws.KeysPath())
			}
			_, k, err := a.installationKeys(true)
			if err != nil {
				return err
			}
			path, err := ws.WriteIdentity(k.Identity(agency))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "keys created in %s (encrypted); public identity in %s\nkey id %s, recipient %s\n",
				ws.KeysPath(), path, casepack.KeyID(k.SigningKey()), k.Recipient())
			return nil
		},
	}
	cmd.Flags().StringVar(&agency, "agency", "", "your agency's name, as partners will see it")
	return cmd
}

func (a *app) keysShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the installation's public identity (give it to partner agencies)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(ws.IdentityPath())
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no installation keys yet (vestigo keys init --agency NAME)")
			}
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(data)
			return err
		},
	}
}

func (a *app) keysAddPartnerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "add-partner FILE",
		Short: "Accept case packages from a partner agency: add its public identity (- reads stdin)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(io.LimitReader(a.stdin, 64<<10))
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			id, err := casepack.ParseIdentity(data)
			if err != nil {
				return usageError{err}
			}
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			path, err := ws.AddPartner(id)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "partner %q added (key id %s): %s\n", id.Agency, id.KeyID(), path)
			return nil
		},
	}
}

func (a *app) keysPartnersCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "partners",
		Short: "List the partner agencies whose packages are accepted",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			ps, err := ws.Partners()
			if err != nil {
				return err
			}
			if asJSON {
				type view struct {
					Agency    string `json:"agency"`
					KeyID     string `json:"key_id"`
					Recipient string `json:"recipient"`
				}
				out := []view{}
				for _, p := range ps {
					out = append(out, view{p.Agency, p.KeyID(), p.Recipient})
				}
				return a.printJSON(out)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "KEY ID\tAGENCY\tRECIPIENT\n")
			for _, p := range ps {
				fmt.Fprintf(w, "%s\t%s\t%s\n", p.KeyID(), p.Agency, p.Recipient)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
