package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) agencyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agency",
		Short: "Agencies of the case store: add one with its first administrator, list them",
	}
	cmd.AddCommand(a.agencyAddCommand(), a.agencyListCommand())
	return cmd
}

func (a *app) agencyAddCommand() *cobra.Command {
	var admin string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add CODE NAME --admin USERNAME",
		Short: "Add an agency and its first administrator (an operation of the installation's operator)",
		Long: `Add an agency to the case store with its first administrator, who then adds
the agency's users (vestigo user add) and tokens. This is an operation of
whoever runs the installation (it needs the store, not a login); it is
audited as the system. The administrator's password is read from
$VESTIGO_NEW_PASSWORD or asked twice on the terminal.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if admin == "" {
				return usagef("name the agency's first administrator with --admin USERNAME")
			}
			_, st, err := a.caseStore(cmd.Context())
			if err != nil {
				return err
			}
			pw, err := a.secret(envNewPassword, fmt.Sprintf("password for %s: ", admin), true)
			if err != nil {
				return err
			}
			ag, err := st.CreateAgency(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			u, err := st.BootstrapAdmin(cmd.Context(), ag.ID, admin, pw)
			if err != nil {
				return fmt.Errorf("agency %s was added, its administrator not: %w", ag.Code, err)
			}
			if asJSON {
				return a.printJSON(map[string]any{"agency": ag, "admin": u})
			}
			fmt.Fprintf(a.stdout, "agency %s (%s) added, id %d; administrator %s (user %d)\n", ag.Code, ag.Name, ag.ID, u.Username, u.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&admin, "admin", "", "username of the agency's first administrator")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) agencyListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the agencies of the case store",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, err := a.caseStore(cmd.Context())
			if err != nil {
				return err
			}
			ags, err := st.ListAgencies(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ags)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "ID\tCODE\tNAME\n")
			for _, ag := range ags {
				fmt.Fprintf(w, "%d\t%s\t%s\n", ag.ID, ag.Code, ag.Name)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
