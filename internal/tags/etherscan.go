package tags

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// What the etherscan-csv format puts in the tags it makes.
const (
	// etherscanConfidence: Etherscan's public name tags, scraped from its
	// pages by a third party: a web crawl (level 20), not authority data,
	// even when the label set is Etherscan's "OFAC Sanctions Lists".
	etherscanConfidence = "web_crawl"
	etherscanAddressURL = "https://etherscan.io/address/"
	etherscanLabelURL   = "https://etherscan.io/accounts/label/"
)

// The two layouts of Etherscan label CSVs.
const (
	layoutBrianleect = "brianleect" // ",Address,Name Tag,Balance,Txn Count"
	layoutDawsbot    = "dawsbot"    // "address,nameTag"
)

var etherscanCreators = map[string]string{
	layoutBrianleect: "Etherscan name tags, scraped by brianleect/etherscan-labels",
	layoutDawsbot:    "Etherscan name tags, scraped by dawsbot/eth-labels",
}

// etherscanLayout tells the layout of an Etherscan label CSV from its
// header record, "" if it is none: brianleect/etherscan-labels writes
// pandas' unnamed index column, then Address, Name Tag, Balance, Txn Count;
// dawsbot/eth-labels writes address,nameTag.
func etherscanLayout(rec []string) string {
	h := make([]string, len(rec))
	for i, f := range rec {
		h[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")))
	}
	switch {
	case len(h) == 5 && (h[0] == "" || h[0] == "index") && h[1] == "address" && h[2] == "name tag" && h[3] == "balance" && h[4] == "txn count":
		return layoutBrianleect
	case len(h) == 2 && h[0] == "address" && (h[1] == "nametag" || h[1] == "name tag"):
		return layoutDawsbot
	}
	return ""
}

// etherscanClass is what an Etherscan label set says in the GraphSense
// taxonomy: a category, an abuse, or neither.
type etherscanClass struct{ category, abuse string }

// etherscanLabels maps Etherscan label sets (the slug of
// etherscan.io/accounts/label/<slug>) to the taxonomy. Exchanges' own sets
// are exchanges; Tornado Cash and "Ethereum Mixer" are mixing services;
// bridges are the taxonomy's defi_bridge; "OFAC Sanctions Lists" is the
// sanction concept (so its tags are Sanctioned, with the confidence of a
// web crawl); "Blocked" (addresses frozen by stablecoin issuers) is a
// black_list, which is not a government sanction; "Mining" is
// mining_service. "phish-hack" is decided per tag, see phishHackAbuse.
var etherscanLabels = map[string]etherscanClass{
	"exchange": {category: "exchange"},
	"binance":  {category: "exchange"}, "bitfinex": {category: "exchange"}, "bitstamp": {category: "exchange"},
	"bittrex": {category: "exchange"}, "bybit": {category: "exchange"}, "coinbase": {category: "exchange"},
	"crypto-com": {category: "exchange"}, "ftx": {category: "exchange"}, "gate-io": {category: "exchange"},
	"gemini": {category: "exchange"}, "huobi": {category: "exchange"}, "kraken": {category: "exchange"},
	"kucoin": {category: "exchange"}, "okx": {category: "exchange"}, "okex": {category: "exchange"},
	"poloniex": {category: "exchange"}, "upbit": {category: "exchange"},
	"tornado-cash":         {category: "mixing_service"},
	"ethereum-mixer":       {category: "mixing_service"},
	"mixer":                {category: "mixing_service"},
	"bridge":               {category: "defi_bridge"},
	"dex":                  {category: "defi_dex"},
	"mining":               {category: "mining_service"},
	"gambling":             {category: "gambling"},
	"ico-wallets":          {category: "ico_wallet"},
	"ofac-sanctions-lists": {abuse: "sanction"},
	"blocked":              {abuse: "black_list"},
	"heist":                {abuse: "service_hack"},
	"exploit":              {abuse: "exploit"},
	"hack":                 {abuse: "hacking"},
	"scam":                 {abuse: "scam"},
	"phishing":             {abuse: "phishing"},
	"ponzi":                {abuse: "ponzi_scheme"},
}

// labelSetPhishHack is Etherscan's "Phish / Hack" label set, which does not
// say which of the two an address is.
const labelSetPhishHack = "phish-hack"

var hackWord = regexp.MustCompile(`(?i)\b(hack|hacker|hacked|hacks|exploit|exploiter|exploited)\b`)

// phishHackAbuse decides the abuse of a tag of the "phish-hack" set from
// Etherscan's name tag: "hacking" when the name says hack or exploit
// ("Bancor Hacker", "bZx PrivKey Exploiter") and does not start with
// "Fake" ("Fake: Hack 137" is a phishing page); "phishing" otherwise (most
// are "Fake_Phishing<n>", and an empty name is Etherscan's default for the
// set). The set itself stays in the tag's context.
func phishHackAbuse(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if hackWord.MatchString(n) && !strings.HasPrefix(n, "fake") {
		return "hacking"
	}
	return "phishing"
}

var labelSetName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// etherscanLabelSet derives the label set from a file name:
// etherscan_accounts_<set>.csv (the shared copies of brianleect's
// data/etherscan/accounts/<set>.csv), mainnet_<set>_all.csv (dawsbot's
// src/mainnet/<set>/all.csv) or <set>.csv.
func etherscanLabelSet(file string) (string, error) {
	stem := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	stem = strings.TrimPrefix(stem, "etherscan_accounts_")
	if s, ok := strings.CutPrefix(stem, "mainnet_"); ok {
		stem = strings.TrimSuffix(s, "_all")
	}
	if stem == "all" || !labelSetName.MatchString(stem) {
		return "", errAt(file, 0, "cannot tell the Etherscan label set from the file name: name it etherscan_accounts_<set>.csv, mainnet_<set>_all.csv or <set>.csv")
	}
	return stem, nil
}

// etherscanContext is the JSON context of an etherscan-csv tag: the label
// set, and for brianleect's files the balance and transaction count
// Etherscan showed when the page was scraped (text, as shown).
type etherscanContext struct {
	LabelSet string `json:"etherscan_label"`
	LabelURL string `json:"etherscan_label_url"`
	Balance  string `json:"balance,omitempty"`
	TxnCount string `json:"txn_count,omitempty"`
}

// parseEtherscanCSV reads an Etherscan label CSV (brianleect's or
// dawsbot's layout). Every row is an ETH tag: the label set comes from the
// file name and gives the category or abuse (etherscanLabels; a set without
// a mapping gives neither, said in the notes); the label is the Name Tag,
// or "Etherscan label: <set>" when Etherscan shows none; the source is the
// address's Etherscan page; the confidence is web_crawl. The lists are
// published data: an address that does not validate (dawsbot's phish-hack
// list holds numbers a spreadsheet made of addresses, and two with a wrong
// EIP-55 checksum) is kept as given and flagged, as in TagPacks.
func parseEtherscanCSV(file string, data []byte) (*parsed, error) {
	set, err := etherscanLabelSet(file)
	if err != nil {
		return nil, err
	}
	class, known := etherscanLabels[set]
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var p *parsed
	layout := ""
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errAt(file, pe.Line, "malformed CSV: %v", pe.Err)
			}
			return nil, errAt(file, 0, "malformed CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if layout == "" {
			if layout = etherscanLayout(rec); layout == "" {
				return nil, errAt(file, line, "the first line must be the header \",Address,Name Tag,Balance,Txn Count\" (brianleect/etherscan-labels) or \"address,nameTag\" (dawsbot/eth-labels)")
			}
			p = &parsed{
				format:  FormatEtherscanCSV,
				title:   fmt.Sprintf("Etherscan label %s (%s)", set, filepath.Base(file)),
				creator: etherscanCreators[layout],
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		want := 2
		if layout == layoutBrianleect {
			want = 5
		}
		if len(rec) != want {
			return nil, errAt(file, line, "expected %d columns, found %d", want, len(rec))
		}
		for _, f := range rec {
			if !cleanText(f) {
				return nil, errAt(file, line, "not valid UTF-8 text or holds control characters")
			}
		}
		ctx := etherscanContext{LabelSet: set, LabelURL: etherscanLabelURL + set}
		var addr, name string
		if layout == layoutBrianleect {
			addr, name = rec[1], rec[2]
			ctx.Balance, ctx.TxnCount = strings.TrimSpace(rec[3]), strings.TrimSpace(rec[4])
		} else {
			addr, name = rec[0], rec[1]
		}
		if strings.TrimSpace(addr) == "" {
			return nil, errAt(file, line, "empty address")
		}
		cj, err := json.Marshal(ctx)
		if err != nil {
			return nil, errAt(file, line, "context: %v", err)
		}
		t := Tag{
			Address: strings.TrimSpace(addr), Currency: "ETH", Label: strings.TrimSpace(name),
			Category: class.category, Abuse: class.abuse,
			Confidence: etherscanConfidence, Creator: p.creator, Context: string(cj),
			IsPublic: true, Line: line,
		}
		if t.Label == "" {
			t.Label = "Etherscan label: " + set
		}
		if set == labelSetPhishHack {
			t.Abuse = phishHackAbuse(name)
		}
		if err := checkTag(file, &t, func(string) int { return line }, false); err != nil {
			return nil, err
		}
		if t.AddressProblem == "" {
			t.Source = etherscanAddressURL + t.Address
		} else {
			t.Source = etherscanLabelURL + set
		}
		p.tags = append(p.tags, t)
	}
	if p == nil {
		return nil, errAt(file, 1, "empty file: the first line must be an Etherscan label CSV header")
	}
	if len(p.tags) == 0 {
		return nil, errAt(file, 0, "no addresses")
	}
	if !known && set != labelSetPhishHack {
		p.notes = append(p.notes, fmt.Sprintf("%s: the Etherscan label set %q has no mapping to the GraphSense taxonomy (known: %s): its tags carry no category or abuse",
			filepath.Base(file), set, strings.Join(knownLabelSets(), ", ")))
	}
	return p, nil
}

func knownLabelSets() []string {
	out := []string{labelSetPhishHack}
	for k := range etherscanLabels {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
