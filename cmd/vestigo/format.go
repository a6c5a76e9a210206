package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// btcAmount formats base units as BTC with 8 decimals, exactly.
func btcAmount(a chain.Amount) string {
	s := a.String()
	if len(s) <= 8 {
		s = strings.Repeat("0", 9-len(s)) + s
	}
	return s[:len(s)-8] + "." + s[len(s)-8:] + " BTC"
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
