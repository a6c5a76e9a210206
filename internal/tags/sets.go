package tags

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// AddressesWith returns the distinct addresses (as stored: normalised),
// sorted, of the currency group whose tags have one of the given concepts
// as category, abuse or additional concept, or a concept below one of them
// in the taxonomy: "hacking" finds exploit and service_hack tags, "defi"
// finds defi_bridge ones, "mixing_service" finds Tornado Cash's pools. It
// feeds address sets to detectors and heuristics (exchanges for the
// deposit-address heuristic, mixers, bridges, sanctioned addresses).
//
// The currency group: "ETH" stands for every Ethereum-style account, that
// is every tag whose address is 0x and 40 hex digits whatever currency it
// names (ETH, USDT, USDC, ARB, BSC, MATIC, ...), since an account has the
// same address on Ethereum, its tokens and the other EVM chains (a contract
// at the same address on another chain may hold other code: the tags keep
// their currency for who needs to tell). "BTC" (or "XBT") is Bitcoin; any
// other currency is taken as given. Addresses flagged in AddressProblem
// (kept as a published list gives them, not valid) are left out.
//
// An empty concept list or a concept outside the taxonomy is an error
// wrapping chain.ErrInvalid.
func (s *Store) AddressesWith(ctx context.Context, currency string, want []string) ([]string, error) {
	cur := normCurrency(currency)
	if cur == "" {
		return nil, invalid("addresses with: empty currency")
	}
	if len(want) == 0 {
		return nil, invalid("addresses with: no concept given")
	}
	match := map[string]bool{}
	for _, c := range want {
		c = strings.TrimSpace(c)
		if !IsConcept(c) {
			return nil, invalid("addresses with: unknown concept %q (not in the GraphSense concepts taxonomy)", truncate(c, 64))
		}
		for k := range concepts {
			if isA(k, c) {
				match[k] = true
			}
		}
	}
	q := `SELECT address, category, abuse, concepts FROM tags WHERE address != '' AND address_problem = '' AND `
	var args []any
	evm := cur == "ETH"
	if evm {
		// Stored 0x addresses that validate are lower case: a range
		// covers them; isEVM decides below.
		q += `address >= '0x' AND address < '0y' AND length(address) = 42`
	} else {
		q += `currency = ?`
		args = append(args, cur)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("tags: addresses with: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var addr, cat, abuse, cs string
		if err := rows.Scan(&addr, &cat, &abuse, &cs); err != nil {
			return nil, fmt.Errorf("tags: addresses with: %w", err)
		}
		if seen[addr] || evm && !isEVM(addr) {
			continue
		}
		hit := match[cat] || match[abuse]
		for _, c := range splitList(cs) {
			hit = hit || match[c]
		}
		if hit {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tags: addresses with: %w", err)
	}
	sort.Strings(out)
	return out, nil
}
