package casestore

import (
	"bytes"
	"context"
	"testing"
)

func TestLanguage(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		if got := must[string](t)(e.s.Language(ctx, e.invA)); got != "" {
			t.Fatalf("language before any choice = %q", got)
		}
		for _, bad := range []string{"", "de", "sr", "EN", "en<script>", "sq\x00"} {
			wantErr(t, e.s.SetLanguage(ctx, e.invA, bad), ErrInvalid)
		}
		must[struct{}](t)(struct{}{}, e.s.SetLanguage(ctx, e.invA, "sq"))
		must[struct{}](t)(struct{}{}, e.s.SetLanguage(ctx, e.invA, "sr-Cyrl")) // a second choice replaces the first
		must[struct{}](t)(struct{}{}, e.s.SetLanguage(ctx, e.revA, "mk"))
		if got := must[string](t)(e.s.Language(ctx, e.invA)); got != "sr-Cyrl" {
			t.Fatalf("language = %q, want sr-Cyrl", got)
		}
		if got := must[string](t)(e.s.Language(ctx, e.adminB)); got != "" {
			t.Fatalf("another user's language = %q", got)
		}
		// A disabled user cannot change settings.
		must[struct{}](t)(struct{}{}, e.s.DisableUser(ctx, e.adminA, e.roA.UserID))
		wantErr(t, e.s.SetLanguage(ctx, e.roA, "en"), ErrUnauthorized)
		// Settings are not audited objects: the store still verifies, and a
		// dump carries them into a restored store.
		e.mustVerify(t)
		var dump bytes.Buffer
		if err := e.s.Dump(ctx, &dump); err != nil {
			t.Fatal(err)
		}
		dst := open(t, b.dsn(t), e.opt)
		if err := dst.Load(ctx, bytes.NewReader(dump.Bytes())); err != nil {
			t.Fatal(err)
		}
		if got := must[string](t)(dst.Language(ctx, e.revA)); got != "mk" {
			t.Fatalf("restored language = %q, want mk", got)
		}
	})
}

func TestListCasesNewestFirst(t *testing.T) {
	both(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		e := newEnv(t, b)
		for _, ref := range []string{"A/2", "A/3"} {
			if _, err := e.s.CreateCase(ctx, e.invA, Case{Reference: ref, Title: "case " + ref}); err != nil {
				t.Fatal(err)
			}
		}
		oldest := must[[]Case](t)(e.s.ListCases(ctx, e.invA, CaseFilter{}))
		newest := must[[]Case](t)(e.s.ListCases(ctx, e.invA, CaseFilter{NewestFirst: true, Limit: 2}))
		if len(oldest) != 3 || len(newest) != 2 || newest[0].Reference != "A/3" || newest[1].Reference != "A/2" || oldest[0].ID != e.caseA.ID {
			t.Fatalf("oldest first %v, newest first %v", oldest, newest)
		}
	})
}
