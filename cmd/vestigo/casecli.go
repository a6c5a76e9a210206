package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// Environment of the case commands: who acts, with which secret.
const (
	envUser     = "VESTIGO_USER"
	envPassword = "VESTIGO_PASSWORD"
	envToken    = "VESTIGO_TOKEN"
	// envNewPassword is the password of a user being created (scripts);
	// a terminal is asked otherwise.
	envNewPassword = "VESTIGO_NEW_PASSWORD"
)

// caseFlags are the persistent flags of the case store.
type caseFlags struct {
	db            string
	user          string
	tsaURL, tsaCA string
}

func (a *app) tsaConfig() (*workspace.TSAConfig, error) {
	if a.cf.tsaURL == "" && a.cf.tsaCA == "" {
		return workspace.TSAFromEnv()
	}
	if a.cf.tsaURL == "" || a.cf.tsaCA == "" {
		return nil, usagef("give both --tsa-url and --tsa-ca")
	}
	return &workspace.TSAConfig{URL: a.cf.tsaURL, CAFile: a.cf.tsaCA}, nil
}

// caseStore opens the case store of --db (closed when the run ends).
func (a *app) caseStore(ctx context.Context) (*workspace.Workspace, *casestore.Store, error) {
	ws, err := a.workspace()
	if err != nil {
		return nil, nil, err
	}
	ts, err := a.tsaConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := ws.Cases(ctx, workspace.CaseOptions{DSN: a.cf.db, TSA: ts})
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, st.Close)
	return ws, st, nil
}

// signedIn opens the case store and authenticates the user running the
// command.
func (a *app) signedIn(cmd *cobra.Command) (*workspace.Workspace, *casestore.Store, casestore.Principal, error) {
	ws, st, err := a.caseStore(cmd.Context())
	if err != nil {
		return nil, nil, casestore.Principal{}, err
	}
	p, err := a.principal(cmd.Context(), st)
	return ws, st, p, err
}

// principal authenticates the user running the command: $VESTIGO_TOKEN,
// or --user with $VESTIGO_PASSWORD or a password typed at the terminal.
func (a *app) principal(ctx context.Context, st *casestore.Store) (casestore.Principal, error) {
	if tok := os.Getenv(envToken); tok != "" {
		return st.AuthenticateToken(ctx, tok)
	}
	user := a.cf.user
	if user == "" {
		return casestore.Principal{}, usagef("say who you are: --user NAME (or $%s), or an API token in $%s", envUser, envToken)
	}
	pw, err := a.secret(envPassword, fmt.Sprintf("password for %s: ", user), false)
	if err != nil {
		return casestore.Principal{}, err
	}
	return st.AuthenticatePassword(ctx, user, pw)
}

// secret reads a secret from the environment variable env or, on a
// terminal, from the keyboard (twice with confirm).
func (a *app) secret(env, prompt string, confirm bool) (string, error) {
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no terminal to ask for it: set $%s", env)
	}
	read := func(p string) (string, error) {
		fmt.Fprint(a.stderr, p)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		return string(b), err
	}
	s, err := read(prompt)
	if err != nil {
		return "", err
	}
	if confirm {
		again, err := read("again: ")
		if err != nil {
			return "", err
		}
		if again != s {
			return "", usagef("the two entries differ")
		}
	}
	return s, nil
}

// installationKeys loads (with create, makes) the installation keys; the
// passphrase comes from $VESTIGO_PASSPHRASE or the terminal.
func (a *app) installationKeys(create bool) (*workspace.Workspace, *casepack.Keys, error) {
	ws, err := a.workspace()
	if err != nil {
		return nil, nil, err
	}
	pass, err := a.secret(workspace.EnvPassphrase, "passphrase of the installation keys: ", false)
	if err != nil {
		return nil, nil, err
	}
	k, err := ws.Keys([]byte(pass), create)
	return ws, k, err
}

// caseID resolves a case argument: its id, or its reference in the
// principal's agency.
func caseID(ctx context.Context, st *casestore.Store, p casestore.Principal, arg string) (int64, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	for off := 0; ; off += 1000 {
		cs, err := st.ListCases(ctx, p, casestore.CaseFilter{Limit: 1000, Offset: off})
		if err != nil {
			return 0, err
		}
		for _, c := range cs {
			if c.Reference == arg {
				return c.ID, nil
			}
		}
		if len(cs) < 1000 {
			return 0, fmt.Errorf("no case %q in agency %s: %w", arg, p.Agency, casestore.ErrNotFound)
		}
	}
}
