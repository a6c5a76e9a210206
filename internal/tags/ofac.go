package tags

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// What the OFAC formats put in the tags they make.
const (
	ofacCreator      = "US Treasury OFAC"
	ofacAbuse        = "sanction"
	ofacDetailURL    = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id="
	ofacListSource   = "https://github.com/0xB10C/ofac-sanctioned-digital-currency-addresses"
	ofacListCreator  = "0xB10C (from OFAC sdn_advanced.xml)"
	ofacRemarksLimit = 1000 // SDN.CSV cuts Remarks here; SDN_COMMENTS.CSV holds the rest
	ofacFeaturePre   = "Digital Currency Address - "
)

func ofacTag(ticker, addr, label, source, context string, line int) Tag {
	return Tag{
		Address: addr, Currency: ticker, Network: ticker, Label: label, Abuse: ofacAbuse,
		Source: source, Confidence: sanctionsConfidence, ConfidenceLevel: confidenceLevels[sanctionsConfidence],
		Creator: ofacCreator, Context: context, Line: line,
	}
}

// --- 0xB10C lists ---------------------------------------------------------

var ofacListName = regexp.MustCompile(`^sanctioned_addresses_([A-Za-z0-9]+)\.txt$`)

// parseOFACList reads one of 0xB10C's sanctioned_addresses_<TICKER>.txt
// lists: one address per line, the ticker (OFAC's: XBT for Bitcoin) taken
// from the file name.
func parseOFACList(file string, data []byte) (*parsed, error) {
	m := ofacListName.FindStringSubmatch(filepath.Base(file))
	if m == nil {
		return nil, errAt(file, 0, "an OFAC address list must be named sanctioned_addresses_<TICKER>.txt")
	}
	ticker := strings.ToUpper(m[1])
	cur := normCurrency(ticker)
	p := &parsed{format: FormatOFACList, title: "OFAC sanctioned digital currency addresses (" + ticker + ")", creator: ofacListCreator}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := i + 1
		s := strings.TrimSpace(string(raw))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !cleanText(s) {
			return nil, errAt(file, line, "not valid UTF-8 text or holds control characters")
		}
		a, problem, err := checkAddress(file, line, cur, s, false)
		if err != nil {
			return nil, err
		}
		t := ofacTag(cur, a, "OFAC SDN list: Digital Currency Address - "+ticker, ofacListSource, "", line)
		t.AddressProblem = problem
		t.Creator = ofacListCreator
		p.tags = append(p.tags, t)
	}
	if len(p.tags) == 0 {
		return nil, errAt(file, 0, "no addresses")
	}
	return p, nil
}

// --- legacy SDN.CSV and SDN_COMMENTS.CSV ------------------------------------

type sdnRow struct {
	ent                int64
	name, typ, program string
	remarks            string
	line               int
}

type commentRow struct {
	ent  int64
	text string
	line int
}

func ofacNull(s string) string {
	s = strings.TrimSpace(s)
	if s == "-0-" {
		return ""
	}
	return s
}

// csvRecords reads every record of an OFAC CSV file with its line.
// OFAC ends its files with a lone Ctrl-Z (0x1A), which is skipped.
func csvRecords(file string, data []byte, fields int) ([][]string, []int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var recs [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, errAt(file, pe.Line, "malformed CSV: %v", pe.Err)
			}
			return nil, nil, errAt(file, 0, "malformed CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.Trim(rec[0], "\x1a \t") == "" {
			continue
		}
		if len(rec) != fields {
			return nil, nil, errAt(file, line, "expected %d columns, found %d", fields, len(rec))
		}
		for _, f := range rec {
			if !cleanText(f) {
				return nil, nil, errAt(file, line, "not valid UTF-8 text or holds control characters")
			}
		}
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	return recs, lines, nil
}

func entNum(file string, line int, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, errAt(file, line, "ent_num %q is not a positive number", truncate(s, 32))
	}
	return n, nil
}

func readSDN(file string, data []byte) ([]sdnRow, error) {
	recs, lines, err := csvRecords(file, data, 12)
	if err != nil {
		return nil, err
	}
	rows := make([]sdnRow, 0, len(recs))
	seen := make(map[int64]int, len(recs))
	for i, rec := range recs {
		n, err := entNum(file, lines[i], rec[0])
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[n]; dup {
			return nil, errAt(file, lines[i], "ent_num %d listed twice (first at line %d)", n, prev)
		}
		seen[n] = lines[i]
		rows = append(rows, sdnRow{
			ent: n, name: ofacNull(rec[1]), typ: ofacNull(rec[2]), program: ofacNull(rec[3]),
			remarks: ofacNull(rec[11]), line: lines[i],
		})
	}
	return rows, nil
}

func readComments(file string, data []byte) ([]commentRow, error) {
	recs, lines, err := csvRecords(file, data, 2)
	if err != nil {
		return nil, err
	}
	rows := make([]commentRow, 0, len(recs))
	for i, rec := range recs {
		n, err := entNum(file, lines[i], rec[0])
		if err != nil {
			return nil, err
		}
		// The comments continue the remarks exactly where SDN.CSV cut
		// them: no trimming, or a split address would not join again.
		text := rec[1]
		if text == "-0-" || text == "-0- " {
			text = ""
		}
		rows = append(rows, commentRow{ent: n, text: text, line: lines[i]})
	}
	return rows, nil
}

var remarkAddr = regexp.MustCompile(`Digital Currency Address - ([A-Z0-9]{2,10}) `)

// remarkEntry is one "Digital Currency Address - TICKER ADDRESS" of a
// remarks text.
type remarkEntry struct {
	start  int // offset of the entry in the text
	ticker string
	addr   string
	open   bool // the address runs to the end of the text (no ';' after it)
}

// remarkEntries finds the digital currency addresses of a remarks text.
// Entries are separated by "; "; the text ends with ".".
func remarkEntries(text string) []remarkEntry {
	var out []remarkEntry
	for _, m := range remarkAddr.FindAllStringSubmatchIndex(text, -1) {
		rest := text[m[1]:]
		end := strings.IndexByte(rest, ';')
		open := end < 0
		if open {
			end = len(rest)
		}
		val := strings.TrimSpace(rest[:end])
		if open {
			val = strings.TrimSuffix(val, ".")
		}
		if f := strings.Fields(val); len(f) > 0 {
			val = f[0]
		} else {
			val = ""
		}
		out = append(out, remarkEntry{start: m[0], ticker: text[m[2]:m[3]], addr: val, open: open})
	}
	return out
}

// leadingEntry recovers an entry at the very start of a comments text that
// began in SDN.CSV, when SDN.CSV is not at hand: the text before the first
// " - " must be the end of "Digital Currency Address" (as in
// "s - ETH 0x…" or "rency Address - XBT bc1q…"). An entry cut inside its
// ticker or address cannot be recovered that way.
func leadingEntry(text string) (remarkEntry, bool) {
	i := strings.Index(text, " - ")
	if i <= 0 {
		return remarkEntry{}, false
	}
	head := text[:i]
	full := strings.TrimSuffix(ofacFeaturePre, " - ")
	if len(head) >= len(full) || !strings.HasSuffix(full, head) {
		return remarkEntry{}, false
	}
	es := remarkEntries(ofacFeaturePre + text[i+3:])
	if len(es) == 0 || es[0].start != 0 {
		return remarkEntry{}, false
	}
	e := es[0]
	e.start = 0
	return e, true
}

func sdnContext(r sdnRow, part string) string {
	b := []byte(`{"ent_num":`)
	b = strconv.AppendInt(b, r.ent, 10)
	if r.typ != "" {
		b = append(b, `,"sdn_type":`...)
		b = appendJSONString(b, r.typ)
	}
	if r.program != "" {
		b = append(b, `,"program":`...)
		b = appendJSONString(b, r.program)
	}
	b = append(b, `,"part":`...)
	b = appendJSONString(b, part)
	return string(append(b, '}'))
}

// ofacCSVInput is one OFAC CSV file of an import.
type ofacCSVInput struct {
	file string
	data []byte
}

// parseOFACCSV reads SDN.CSV and/or SDN_COMMENTS.CSV (either may be nil).
// When both are given, the comments are joined to the remarks of the SDN
// row with the same ent_num, so an address that SDN.CSV cut at its
// 1000-character limit is read whole; each address then belongs to the file
// in which its entry starts. names gives the SDN name of an ent_num that is
// not in this SDN file (from earlier imports); it may be nil. The results
// and errors are per file.
func parseOFACCSV(sdn, comments *ofacCSVInput, names func(int64) string) (sp, cp *parsed, serr, cerr error) {
	var rows []sdnRow
	var crow []commentRow
	if sdn != nil {
		rows, serr = readSDN(sdn.file, sdn.data)
	}
	if comments != nil {
		crow, cerr = readComments(comments.file, comments.data)
	}
	byEnt := make(map[int64][]commentRow)
	if cerr == nil {
		for _, c := range crow {
			byEnt[c.ent] = append(byEnt[c.ent], c)
		}
	}
	joined := make(map[int64]bool)
	if sdn != nil && serr == nil {
		sp = &parsed{format: FormatOFACCSV, title: "OFAC SDN list (SDN.CSV)", creator: ofacCreator, names: make(map[int64]string, len(rows))}
		if comments != nil && cerr == nil {
			cp = &parsed{format: FormatOFACCSV, title: "OFAC SDN list remarks (SDN_COMMENTS.CSV)", creator: ofacCreator}
		}
		for _, r := range rows {
			sp.names[r.ent] = r.name
			label := r.name
			if label == "" {
				label = fmt.Sprintf("OFAC SDN entry %d", r.ent)
			}
			text := r.remarks
			cs := byEnt[r.ent]
			if cp != nil && len(cs) > 0 {
				joined[r.ent] = true
				bounds := make([]int, 0, len(cs)) // end offset of each comment row
				for _, c := range cs {
					text += c.text
					bounds = append(bounds, len(text))
				}
				for _, e := range remarkEntries(text) {
					if e.start < len(r.remarks) {
						if err := addOFAC(sp, sdn.file, r.line, e, label, r, "sdn"); err != nil {
							serr = err
							break
						}
						continue
					}
					k := 0
					for k < len(bounds)-1 && e.start >= bounds[k] {
						k++
					}
					if cerr != nil {
						continue // the comments file failed; its tags are dropped
					}
					if err := addOFAC(cp, comments.file, cs[k].line, e, label, r, "comments"); err != nil {
						cerr = err
					}
				}
				if serr != nil {
					break
				}
				continue
			}
			truncated := utf8.RuneCountInString(text) >= ofacRemarksLimit && !strings.HasSuffix(text, ".")
			for _, e := range remarkEntries(text) {
				if truncated && e.open {
					continue
				}
				if err := addOFAC(sp, sdn.file, r.line, e, label, r, "sdn"); err != nil {
					serr = err
					break
				}
			}
			if truncated {
				sp.notes = append(sp.notes, fmt.Sprintf("%s:%d: the remarks of ent_num %d reach SDN.CSV's %d-character limit and continue in SDN_COMMENTS.CSV; an address cut there is not imported from this file alone: import SDN_COMMENTS.CSV together with it", filepath.Base(sdn.file), r.line, r.ent, ofacRemarksLimit))
			}
			if serr != nil {
				break
			}
		}
		if serr != nil {
			sp = nil
			joined = nil
			cp = nil
		}
	}
	if comments != nil && cerr == nil {
		if cp == nil {
			cp = &parsed{format: FormatOFACCSV, title: "OFAC SDN list remarks (SDN_COMMENTS.CSV)", creator: ofacCreator}
		}
		done := make(map[int64]bool)
		for _, c0 := range crow {
			if joined[c0.ent] || done[c0.ent] {
				continue
			}
			done[c0.ent] = true
			// The rows of one ent_num continue each other.
			cs := byEnt[c0.ent]
			text := ""
			bounds := make([]int, 0, len(cs))
			for _, c := range cs {
				text += c.text
				bounds = append(bounds, len(text))
			}
			name := ""
			if names != nil {
				name = names(c0.ent)
			}
			if name == "" {
				name = fmt.Sprintf("OFAC SDN entry %d", c0.ent)
			}
			r := sdnRow{ent: c0.ent}
			es := remarkEntries(text)
			if e, ok := leadingEntry(text); ok {
				es = append([]remarkEntry{e}, es...)
			} else if len(text) > 0 && !strings.HasPrefix(text, ofacFeaturePre) && cutsEntry(text) {
				cp.notes = append(cp.notes, fmt.Sprintf("%s:%d: ent_num %d continues an entry that SDN.CSV cut (%q); import SDN.CSV together with this file to read it", filepath.Base(comments.file), c0.line, c0.ent, truncate(text[:strings.IndexAny(text+";", ";")], 40)))
			}
			for _, e := range es {
				k := 0
				for k < len(bounds)-1 && e.start >= bounds[k] {
					k++
				}
				if err := addOFAC(cp, comments.file, cs[k].line, e, name, r, "comments"); err != nil {
					cerr = err
					break
				}
			}
			if cerr != nil {
				break
			}
		}
	}
	if cerr != nil {
		cp = nil
	}
	return sp, cp, serr, cerr
}

// cutsEntry reports whether a comments text starts inside an entry that
// could be a digital currency address (its first piece, up to ';', has no
// space: a cut address, or a cut ticker and address).
func cutsEntry(text string) bool {
	head := text
	if i := strings.IndexByte(head, ';'); i >= 0 {
		head = head[:i]
	}
	head = strings.TrimSpace(head)
	if head == "" || strings.Contains(head, ofacFeaturePre) {
		return false
	}
	return !strings.ContainsAny(head, " ") || strings.Contains(head, " - ")
}

func addOFAC(p *parsed, file string, line int, e remarkEntry, label string, r sdnRow, part string) error {
	cur := normCurrency(e.ticker)
	a, problem, err := checkAddress(file, line, cur, e.addr, false)
	if err != nil {
		return err
	}
	t := ofacTag(cur, a, label, ofacDetailURL+strconv.FormatInt(r.ent, 10), sdnContext(r, part), line)
	t.AddressProblem = problem
	p.tags = append(p.tags, t)
	return nil
}

// ofacCSVRole tells SDN.CSV (12 columns) from SDN_COMMENTS.CSV (2 columns,
// named *comments*) by the first record; "" if neither.
func ofacCSVRole(name string, head []byte) string {
	r := csv.NewReader(bytes.NewReader(head))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		if rec == nil {
			return ""
		}
	}
	if len(rec) == 0 {
		return ""
	}
	if _, err := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 64); err != nil {
		return ""
	}
	switch {
	case len(rec) == 12:
		return "sdn"
	case len(rec) == 2 && strings.Contains(strings.ToLower(name), "comment"):
		return "comments"
	}
	return ""
}

// --- sdn_advanced.xml ------------------------------------------------------

const maxXMLDepth = 64

// parseOFACXML reads OFAC's SDN advanced XML with a streaming token loop:
// ReferenceValueSets/FeatureTypeValues/FeatureType gives the ids of the
// "Digital Currency Address - TICKER" feature types; each
// DistinctParty/Profile/Feature of such a type holds the address in
// FeatureVersion/VersionDetail; the party's name is the primary Alias of the
// primary Identity (DocumentedName/DocumentedNamePart/NamePartValue, parts
// joined by spaces). Elements are matched by local name, so both the old
// (http://www.un.org/sanctions/1.0) and the current OFAC namespace work.
func parseOFACXML(file string, r io.Reader) (*parsed, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	p := &parsed{format: FormatOFACXML, title: "OFAC SDN list (sdn_advanced.xml)", creator: ofacCreator}
	var stack []string
	featureTypes := make(map[string]string)
	var text strings.Builder
	const maxText = 1 << 20
	var (
		ftID                          string
		date                          [3]string
		party                         *xmlParty
		identityPrimary, aliasPrimary bool
		aliasParts                    []string
		feat                          *xmlFeature
	)
	lineNow := func() int { l, _ := d.InputPos(); return l }
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, errAt(file, se.Line, "malformed XML: %s", se.Msg)
			}
			return nil, errAt(file, lineNow(), "malformed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(stack) == 0 && name != "Sanctions" {
				return nil, errAt(file, lineNow(), "not an OFAC SDN advanced XML file (root element <%s>, expected <Sanctions>)", truncate(name, 40))
			}
			stack = append(stack, name)
			if len(stack) > maxXMLDepth {
				return nil, errAt(file, lineNow(), "XML nesting deeper than %d elements", maxXMLDepth)
			}
			text.Reset()
			switch name {
			case "FeatureType":
				ftID = attr(t, "ID")
			case "DistinctParty":
				party = &xmlParty{fixedRef: attr(t, "FixedRef"), line: lineNow()}
			case "Identity":
				identityPrimary = attr(t, "Primary") == "true"
			case "Alias":
				aliasPrimary = attr(t, "Primary") == "true"
				aliasParts = aliasParts[:0]
			case "Feature":
				if party == nil {
					break
				}
				id := attr(t, "FeatureTypeID")
				ft, ok := featureTypes[id]
				if !ok {
					return nil, errAt(file, lineNow(), "Feature with FeatureTypeID %q, which ReferenceValueSets/FeatureTypeValues does not define", truncate(id, 20))
				}
				if tk, ok := strings.CutPrefix(ft, ofacFeaturePre); ok {
					feat = &xmlFeature{ticker: strings.TrimSpace(tk), id: attr(t, "ID")}
				}
			case "VersionDetail":
				if feat != nil {
					feat.lines = append(feat.lines, lineNow())
				}
			}
		case xml.CharData:
			if text.Len()+len(t) > maxText {
				return nil, errAt(file, lineNow(), "XML text longer than %d bytes", maxText)
			}
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errAt(file, lineNow(), "malformed XML: unexpected end element")
			}
			name := stack[len(stack)-1]
			parent := ""
			if len(stack) > 1 {
				parent = stack[len(stack)-2]
			}
			stack = stack[:len(stack)-1]
			val := strings.TrimSpace(text.String())
			text.Reset()
			switch name {
			case "FeatureType":
				if parent == "FeatureTypeValues" {
					if ftID == "" {
						return nil, errAt(file, lineNow(), "FeatureType without ID")
					}
					featureTypes[ftID] = val
				}
			case "Year", "Month", "Day":
				if parent == "DateOfIssue" {
					date[map[string]int{"Year": 0, "Month": 1, "Day": 2}[name]] = val
				}
			case "NamePartValue":
				aliasParts = append(aliasParts, val)
			case "Alias":
				if party != nil && len(aliasParts) > 0 {
					n := strings.Join(aliasParts, " ")
					if party.firstName == "" {
						party.firstName = n
					}
					if identityPrimary && aliasPrimary && party.name == "" {
						party.name = n
					}
				}
			case "VersionDetail":
				if feat != nil {
					feat.values = append(feat.values, val)
				}
			case "Feature":
				if feat != nil && party != nil {
					party.features = append(party.features, *feat)
				}
				feat = nil
			case "DistinctParty":
				if err := p.addParty(file, party, date); err != nil {
					return nil, err
				}
				party = nil
			}
		}
	}
	if len(stack) != 0 {
		return nil, errAt(file, lineNow(), "malformed XML: unexpected end of file")
	}
	if len(featureTypes) == 0 {
		return nil, errAt(file, 0, "no ReferenceValueSets/FeatureTypeValues: not an OFAC SDN advanced XML file")
	}
	return p, nil
}

type xmlParty struct {
	fixedRef        string
	name, firstName string
	line            int
	features        []xmlFeature
}

type xmlFeature struct {
	ticker, id string
	values     []string
	lines      []int
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (p *parsed) addParty(file string, party *xmlParty, date [3]string) error {
	if party == nil {
		return nil
	}
	label := party.name
	if label == "" {
		label = party.firstName
	}
	if label == "" {
		label = "OFAC SDN entry " + party.fixedRef
	}
	lastmod := ""
	if y, err1 := strconv.Atoi(date[0]); err1 == nil {
		if m, err2 := strconv.Atoi(date[1]); err2 == nil {
			if dd, err3 := strconv.Atoi(date[2]); err3 == nil {
				lastmod = fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
				if !validDate(lastmod) {
					lastmod = ""
				}
			}
		}
	}
	for _, f := range party.features {
		cur := normCurrency(f.ticker)
		for i, v := range f.values {
			line := party.line
			if i < len(f.lines) {
				line = f.lines[i]
			}
			if !cleanText(v) || !cleanText(label) {
				return errAt(file, line, "not valid UTF-8 text or holds control characters")
			}
			a, problem, err := checkAddress(file, line, cur, v, false)
			if err != nil {
				return err
			}
			ctx := []byte(`{"fixed_ref":`)
			ctx = appendJSONString(ctx, party.fixedRef)
			ctx = append(ctx, `,"feature_id":`...)
			ctx = appendJSONString(ctx, f.id)
			ctx = append(ctx, '}')
			source := ofacDetailURL + party.fixedRef
			if _, err := strconv.ParseUint(party.fixedRef, 10, 64); err != nil {
				source = "OFAC SDN advanced XML"
			}
			t := ofacTag(cur, a, label, source, string(ctx), line)
			t.LastMod = lastmod
			t.AddressProblem = problem
			p.tags = append(p.tags, t)
		}
	}
	return nil
}
