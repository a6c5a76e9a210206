package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "API tokens for scripts: create, list, revoke (administrators)",
	}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

// userIDOf finds a user of p's agency by name (p's own id when empty).
func (a *app) userIDOf(cmd *cobra.Command, st *casestore.Store, p casestore.Principal, name string) (int64, error) {
	if name == "" || name == p.Username {
		return p.UserID, nil
	}
	us, err := st.ListUsers(cmd.Context(), p)
	if err != nil {
		return 0, err
	}
	for _, u := range us {
		if u.Username == name {
			return u.ID, nil
		}
	}
	return 0, fmt.Errorf("no user %q in agency %s: %w", name, p.Agency, casestore.ErrNotFound)
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var forUser string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create NAME [--for USERNAME]",
		Short: "Create an API token (shown once; the store keeps only its hash)",
		Long: `Create an API token for yourself or, with --for, for a user of your agency.
Scripts send it as "Authorization: Bearer TOKEN" to vestigo serve, or set it
in $VESTIGO_TOKEN for the command line. It is printed once: the store keeps
only its SHA-256.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			uid, err := a.userIDOf(cmd, st, p, forUser)
			if err != nil {
				return err
			}
			secret, id, err := st.CreateToken(cmd.Context(), p, uid, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"id": id, "name": args[0], "user_id": uid, "token": secret})
			}
			fmt.Fprintf(a.stderr, "token %d (%s) created; it is shown once:\n", id, args[0])
			fmt.Fprintln(a.stdout, secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&forUser, "for", "", "user of your agency the token acts as (default: you)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) tokenListCommand() *cobra.Command {
	var forUser string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--for USERNAME]",
		Short: "List API tokens (their names and prefixes, never the secrets)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			uid, err := a.userIDOf(cmd, st, p, forUser)
			if err != nil {
				return err
			}
			ts, err := st.ListTokens(cmd.Context(), p, uid)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ts)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "ID\tNAME\tPREFIX\tCREATED\tLAST USED\tREVOKED\n")
			for _, t := range ts {
				last := "-"
				if !t.LastUsedAt.IsZero() {
					last = t.LastUsedAt.UTC().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\t%v\n", t.ID, t.Name, t.Prefix, t.CreatedAt.UTC().Format("2006-01-02 15:04"), last, t.Revoked)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&forUser, "for", "", "user of your agency (default: you)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("%q is not a token id", args[0])
			}
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			if err := st.RevokeToken(cmd.Context(), p, id); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "token %d revoked\n", id)
			return nil
		},
	}
}
