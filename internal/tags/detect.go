package tags

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// detectHead is how much of a file format detection reads.
const detectHead = 64 << 10

// DetectFormat tells the format of a file from its name and first bytes:
//
//   - .yaml / .yml: an ActorPack if a line starts with the top-level key
//     "actors:" (graphsense.actorpack.yaml), else a TagPack;
//   - sanctioned_addresses_<TICKER>.txt: an ofac-list;
//   - .xml: ofac-xml;
//   - .csv: csv if its first line is the header
//     address,label,category,source[,confidence]; ofac-csv if its first
//     record has SDN.CSV's 12 columns and a numeric ent_num, or SDN_COMMENTS'
//     two columns and the file name says "comments"; etherscan-csv if its
//     first line is the header of brianleect/etherscan-labels
//     (",Address,Name Tag,Balance,Txn Count") or of dawsbot/eth-labels
//     ("address,nameTag").
//
// It returns "" for anything else.
func DetectFormat(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, detectHead))
	if err != nil {
		return "", err
	}
	return detect(filepath.Base(path), head), nil
}

func detect(name string, head []byte) Format {
	lower := strings.ToLower(name)
	switch ext := filepath.Ext(lower); {
	case ext == ".yaml" || ext == ".yml":
		if hasActorsKey(head) || strings.HasSuffix(lower, ".actorpack.yaml") || strings.HasSuffix(lower, ".actorpack.yml") {
			return FormatActorPack
		}
		return FormatTagPack
	case ofacListName.MatchString(name):
		return FormatOFACList
	case ext == ".xml":
		return FormatOFACXML
	case ext == ".csv":
		r := csv.NewReader(bytes.NewReader(firstLine(head)))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		if rec, err := r.Read(); err == nil && isPlainHeader(rec) {
			return FormatCSV
		} else if err == nil && etherscanLayout(rec) != "" {
			return FormatEtherscanCSV
		}
		if ofacCSVRole(name, head) != "" {
			return FormatOFACCSV
		}
	}
	return ""
}

// candidateName reports whether a file name is one DetectFormat may
// recognise (by its extension, or as a 0xB10C list).
func candidateName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".xml", ".csv":
		return true
	}
	return ofacListName.MatchString(name)
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

func hasActorsKey(head []byte) bool {
	s := bufio.NewScanner(bytes.NewReader(head))
	s.Buffer(make([]byte, 0, 4096), len(head)+1)
	for s.Scan() {
		l := s.Text()
		if strings.HasPrefix(l, "actors:") {
			return true
		}
		if strings.HasPrefix(l, "tags:") {
			return false
		}
	}
	return false
}
