package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Users of your agency: add, list (administrators)",
	}
	cmd.AddCommand(a.userAddCommand(), a.userListCommand())
	return cmd
}

func (a *app) userAddCommand() *cobra.Command {
	var role string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add USERNAME --role admin|investigator|reviewer|read-only",
		Short: "Add a user to your agency (you log in as its administrator with --user)",
		Long: `Add a user to the agency of the administrator running the command (--user,
password in $VESTIGO_PASSWORD or asked). The new user's password is read from
$VESTIGO_NEW_PASSWORD or asked twice. Roles: admin (users and tokens, and
everything an investigator does), investigator (cases, items, notes, findings,
exhibits, tasks), reviewer (reads everything of the agency, writes notes and
tasks), read-only.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			pw, err := a.secret(envNewPassword, fmt.Sprintf("password for %s: ", args[0]), true)
			if err != nil {
				return err
			}
			u, err := st.CreateUser(cmd.Context(), p, args[0], casestore.Role(role), pw)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(u)
			}
			fmt.Fprintf(a.stdout, "user %s (%s) added to %s, id %d\n", u.Username, u.Role, p.Agency, u.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", string(casestore.RoleInvestigator), "admin, investigator, reviewer or read-only")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) userListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the users of your agency",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			us, err := st.ListUsers(cmd.Context(), p)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(us)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "ID\tUSERNAME\tROLE\tDISABLED\n")
			for _, u := range us {
				fmt.Fprintf(w, "%d\t%s\t%s\t%v\n", u.ID, u.Username, u.Role, u.Disabled)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
