package tags

import (
	"sort"
	"strconv"
	"strings"
)

// The GraphSense confidence taxonomy: id → level (0..100). Source:
// graphsense/graphsense-tagpack-tool, src/tagpack/db/confidence.csv at
// commit fcddd3ad04a4a22f008f2ab492160e4b8674dec2 (the version that adds
// ledger_immanent, forensic_investigation, heuristic and unknown; the same
// table is shipped with graphsense-lib's tagpack module).
var confidenceLevels = map[string]int{
	"override":               100, // Manual cluster tag
	"ownership":              100, // Proven address ownership
	"ledger_immanent":        100, // Data directly read from the transaction ledger
	"manual_transaction":     90,  // Trusted transaction
	"service_api":            70,  // Service API
	"forensic_investigation": 70,  // Forensic Investigation
	"authority_data":         60,  // Authority data (e.g. OFAC)
	"trusted_provider":       50,  // Trusted data providers
	"service_data":           50,  // Service data
	"forensic":               50,  // Forensic reports (e.g. academic papers)
	"untrusted_transaction":  40,  // Untrusted transaction
	"web_crawl":              20,  // Web crawls
	"heuristic":              10,  // Any Source
	"unknown":                5,   // Unknown
}

// DefaultConfidence is the confidence given to a tag whose pack and tag both
// lack one. It is what the GraphSense tagpack tool does: it sets the pack's
// confidence to the id with the lowest level of the taxonomy, "unknown" (5).
const DefaultConfidence = "unknown"

// sanctionsConfidence is the confidence of tags imported from OFAC's own
// lists: the taxonomy's example of "authority_data" is OFAC.
const sanctionsConfidence = "authority_data"

// ConfidenceLevel returns the level (0..100) of a GraphSense confidence id.
func ConfidenceLevel(id string) (int, bool) {
	l, ok := confidenceLevels[id]
	return l, ok
}

// ConfidenceIDs returns every confidence id, highest level first.
func ConfidenceIDs() []string {
	ids := make([]string, 0, len(confidenceLevels))
	for id := range confidenceLevels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		li, lj := confidenceLevels[ids[i]], confidenceLevels[ids[j]]
		if li != lj {
			return li > lj
		}
		return ids[i] < ids[j]
	})
	return ids
}

// concepts is the GraphSense concepts taxonomy (id → broader concept), the
// one both `category` and `abuse` of a TagPack are validated against.
// Source: graphsense/graphsense-lib, src/graphsenselib/tagpack/db/concepts.yaml
// at commit 0b91543d761f83b9e667738fac6686d3cffd1da6 ("Concepts Taxonomy",
// Iknaio Standardisation Working Group, derived from the INTERPOL Darknet and
// Cryptocurrencies Working Group (DW-VA) entity and abuse taxonomies). The
// older tagpack-tool lists (src/tagpack/db/entities.yaml, abuses.yaml,
// version 0.2.1) are subsets of it, except that they lack black_list, which
// the real usdt_blacklist.yaml pack uses.
var concepts = map[string]string{
	"concept":         "",
	"unknown":         "concept",
	"behaviour":       "concept",
	"source":          "concept",
	"mention":         "source",
	"website_mention": "mention",
	"forum_mention":   "website_mention",
	"abuse":           "behaviour",
	"gray_usage":      "behaviour",
	"mixing":          "gray_usage",
	"white_usage":     "behaviour",

	// Abuses.
	"sexual_abuse":        "abuse",
	"child_sexual_abuse":  "sexual_abuse",
	"violence":            "abuse",
	"human_trafficking":   "abuse",
	"murder":              "violence",
	"torture":             "violence",
	"scam":                "abuse",
	"financial_crime":     "abuse",
	"investment_fraud":    "financial_crime",
	"ponzi_scheme":        "investment_fraud",
	"pyramid_scheme":      "ponzi_scheme",
	"money_laundering":    "financial_crime",
	"extortion":           "abuse",
	"sextortion":          "extortion",
	"phishing":            "abuse",
	"hacking":             "abuse",
	"service_hack":        "hacking",
	"account_hack":        "hacking",
	"exploit":             "hacking",
	"data_breach":         "hacking",
	"social_engineering":  "hacking",
	"malware":             "hacking",
	"drugs":               "abuse",
	"weapons":             "abuse",
	"payment_card_fraud":  "financial_crime",
	"ransomware":          "extortion",
	"sanction":            "abuse",
	"counterfeit":         "abuse",
	"extremism":           "abuse",
	"terrorism":           "extremism",
	"terrorism_financing": "extremism",
	"dark_web":            "source",

	// Entities.
	"entity":            "concept",
	"organization":      "entity",
	"user":              "entity",
	"service":           "entity",
	"victim":            "user",
	"perpetrator":       "user",
	"donation":          "user",
	"exchange":          "service",
	"wallet_service":    "service",
	"escrow_wallet":     "wallet_service",
	"ico_wallet":        "wallet_service",
	"cold_wallet":       "white_usage",
	"hot_wallet":        "white_usage",
	"warm_wallet":       "white_usage",
	"filesharing":       "service",
	"index":             "service",
	"market":            "service",
	"messaging_service": "service",
	"mixing_service":    "service",
	"coinjoin":          "mixing",
	"miner":             "user",
	"mining_service":    "service",
	"gambling":          "service",
	"search_engine":     "service",
	"shop":              "service",
	"faucet":            "service",
	"payment_processor": "service",
	"atm":               "service",
	"hosting":           "service",
	"vpn":               "service",
	"nameservice":       "service",
	"defi":              "service",
	"defi_token":        "defi",
	"defi_lending":      "defi",
	"defi_dex":          "defi",
	"defi_dex_pair":     "defi_dex",
	"defi_derivative":   "defi",
	"defi_bridge":       "defi",
	"defi_dao":          "defi",
	"defi_staking":      "defi",
	"defi_custody":      "defi",
	"item":              "concept",
	"collectible":       "item",
	"black_list":        "abuse",
	"gov_black_list":    "black_list",
	"white_list":        "white_usage",
	"gov_white_list":    "white_list",
	"deployer":          "behaviour",
	"funder":            "behaviour",
}

// tagTypes is the GraphSense tag_type list (graphsense-lib,
// src/graphsenselib/tagpack/db/tag_types.csv at the same commit).
var tagTypes = map[string]bool{"actor": true, "event": true, "attribute": true, "mention": true}

// IsConcept reports whether id is a concept of the taxonomy.
func IsConcept(id string) bool {
	_, ok := concepts[id]
	return ok
}

// isA reports whether concept a is c or lies below c in the taxonomy.
func isA(a, c string) bool {
	for i := 0; a != "" && i < 16; i++ {
		if a == c {
			return true
		}
		a = concepts[a]
	}
	return false
}

// isAbuse reports whether a concept is an abuse (lies below "abuse").
func isAbuse(c string) bool { return isA(c, "abuse") }

// sanctionConcepts are the concepts whose presence as a tag's category or
// abuse makes the tag sanctioned: only "sanction" (prefLabel "Sanction
// List": an entry on a sanction list published by governments).
var sanctionConcepts = map[string]bool{"sanction": true}

// listConcepts are memberships of a list rather than activities: they sit
// next to any category and any other abuse without contradicting it.
var listConcepts = map[string]bool{"sanction": true, "black_list": true, "gov_black_list": true}

// genericEntities say too little to contradict a more specific category.
var genericEntities = map[string]bool{"concept": true, "unknown": true, "entity": true, "organization": true, "user": true, "service": true, "item": true}

// legitimateServices are categories of services that, when a tag says so,
// contradict another tag calling the same address the instrument of a crime
// (exchange vs ransomware). Markets, mixers and perpetrators are not in it.
var legitimateServices = map[string]bool{
	"exchange": true, "wallet_service": true, "escrow_wallet": true, "ico_wallet": true,
	"payment_processor": true, "atm": true, "mining_service": true, "miner": true,
	"hosting": true, "vpn": true, "nameservice": true, "search_engine": true,
	"messaging_service": true, "faucet": true, "filesharing": true, "shop": true,
	"gambling": true, "index": true, "victim": true, "donation": true,
	"white_list": true, "gov_white_list": true,
}

func isLegitimateService(c string) bool {
	return legitimateServices[c] || isA(c, "defi")
}

// parseConfidence accepts a taxonomy id or a number 0..100 and returns the
// id (empty for a number) and the level.
func parseConfidence(s string) (string, int, bool) {
	if l, ok := confidenceLevels[s]; ok {
		return s, l, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 100 {
		return "", 0, false
	}
	return "", n, true
}
