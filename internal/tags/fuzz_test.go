package tags

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// checkParsed holds for anything a parser accepts: every tag has a currency,
// an address or a transaction, a label, a confidence level in 0..100, and
// a known taxonomy value where it has one.
func checkParsed(t *testing.T, p *parsed) {
	t.Helper()
	for _, tg := range p.tags {
		if tg.Currency == "" || (tg.Address == "" && tg.TxHash == "") || tg.Label == "" ||
			tg.ConfidenceLevel < 0 || tg.ConfidenceLevel > 100 ||
			(tg.Category != "" && !IsConcept(tg.Category)) || (tg.Abuse != "" && !IsConcept(tg.Abuse)) ||
			(tg.Confidence != "" && confidenceLevels[tg.Confidence] != tg.ConfidenceLevel) ||
			len(tg.Address) > maxAddressText || !cleanText(tg.Label) {
			t.Fatalf("accepted a bad tag: %+v", tg)
		}
	}
}

func addSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data := readFileF(f, p)
		f.Add(data)
	}
}

func readFileF(f *testing.F, p string) []byte {
	b, err := readFileErr(p)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzParseTagPack(f *testing.F) {
	// Small real packs: the fuzzer minimises every new input it finds, which
	// takes long for big ones.
	for _, n := range []string{"lazarus.yaml", "ronin_bridge.yaml", "electrum_phishing.yaml", "forsage.yaml",
		"coinjoin_bounty.yaml", "sinbad_io.yaml", "wasabi_collector.yaml", "interpol-real_services.yaml"} {
		addSeeds(f, filepath.Join(packDir, n))
	}
	actors := readFileF(f, filepath.Join(packDir, "graphsense.actorpack.yaml"))
	f.Add(actors[:bytes.Index(actors, []byte("\n- id: 0vix"))])
	usdt := readFileF(f, filepath.Join(packDir, "usdt_blacklist.yaml"))
	f.Add(usdt[:bytes.Index(usdt, []byte("\n- address: '0x0000000000000000000000000000000000000018'"))])
	f.Add([]byte(billionLaughs()))
	f.Add([]byte("title: t\ncreator: c\ntags: " + strings.Repeat("[", 50) + strings.Repeat("]", 50)))
	f.Add([]byte("title: t\ncreator: c\ntags:\n- address: 'a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseYAMLPack("fuzz.yaml", data, limits{maxNodes: 20000, maxDepth: defaultMaxYAMLDepth})
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		checkParsed(t, p)
	})
}

func FuzzParseOFACCSV(f *testing.F) {
	// Real rows: SDN.CSV's first row and the one of ent_num 30518, whose
	// remarks SDN.CSV cuts inside an address; SDN_COMMENTS.CSV's rows of
	// 30518 and 43421 (which starts inside "Digital Currency Address").
	// Whole files make slow seeds (the fuzzer minimises what it finds).
	rows := func(path string, ents ...string) []byte {
		var out []byte
		for _, l := range bytes.SplitAfter(readFileF(f, path), []byte("\n")) {
			for _, e := range ents {
				if bytes.HasPrefix(l, []byte(e+",")) {
					out = append(out, l...)
				}
			}
		}
		return out
	}
	f.Add(rows(sdnCSV, "30518"), rows(sdnCom, "30518"))
	f.Add(rows(sdnCSV, "29703"), rows(sdnCom, "29703"))
	f.Add([]byte("1,\"A\",\"individual\",\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - XBT 1BoatSLRHtKNngkdXEeobR76b53LETtpyT.\"\r\n\x1a"), []byte("1,\"ddress - ETH 0x00\"\n"))
	f.Fuzz(func(t *testing.T, s, c []byte) {
		names := func(int64) string { return "" }
		sp, cp, serr, cerr := parseOFACCSV(&ofacCSVInput{file: "sdn.csv", data: s}, &ofacCSVInput{file: "sdn_comments.csv", data: c}, names)
		for _, r := range []struct {
			p   *parsed
			err error
		}{{sp, serr}, {cp, cerr}} {
			if r.err != nil {
				if !IsInvalid(r.err) {
					t.Fatalf("error not wrapping ErrInvalid: %v", r.err)
				}
				if r.p != nil {
					t.Fatal("result with an error")
				}
				continue
			}
			if r.p == nil {
				t.Fatal("no result and no error")
			}
			checkParsed(t, r.p)
		}
		// SDN.CSV alone too (SDN_COMMENTS.CSV is read alone whenever s is
		// not a valid SDN.CSV).
		if p, _, err, _ := parseOFACCSV(&ofacCSVInput{file: "sdn.csv", data: s}, nil, names); err == nil {
			checkParsed(t, p)
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(plainGood))
	f.Add([]byte("address,label,category,source\n1BoatSLRHtKNngkdXEeobR76b53LETtpyX,typo,exchange,https://example.org\n"))
	f.Add([]byte("\ufeffaddress,label,category,source\n\"0x8589427373D6D84E98730D7795D8f6f8731FDA16\",\"a,b\",,s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseCSV("fuzz.csv", data)
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		checkParsed(t, p)
		for _, tg := range p.tags {
			if tg.AddressProblem != "" || NormalizeAddress(tg.Address) != tg.Address {
				t.Fatalf("plain CSV accepted an address not in stored form: %+v", tg)
			}
		}
	})
}

func FuzzParseOFACXML(f *testing.F) {
	f.Add(readFileF(f, sdnXML))
	f.Add([]byte(`<Sanctions><ReferenceValueSets><FeatureTypeValues><FeatureType ID="1">Digital Currency Address - XBT</FeatureType></FeatureTypeValues></ReferenceValueSets><DistinctParties><DistinctParty FixedRef="1"><Profile><Feature ID="2" FeatureTypeID="1"><FeatureVersion><VersionDetail>1BoatSLRHtKNngkdXEeobR76b53LETtpyT</VersionDetail></FeatureVersion></Feature></Profile></DistinctParty></DistinctParties></Sanctions>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseOFACXML("fuzz.xml", bytes.NewReader(data))
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		checkParsed(t, p)
	})
}

func FuzzParseEtherscanCSV(f *testing.F) {
	f.Add("etherscan_accounts_ethereum-mixer.csv", readFileF(f, filepath.Join(brianDir, "etherscan_accounts_ethereum-mixer.csv")))
	f.Add("mainnet_phish-hack_all.csv", []byte("address,nameTag\n0xbceaa0040764009fdcff407e82ad1f06465fd2c4,Bancor Hacker\n1.4390191554254E+48,Fake_Phishing1875\n0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773,Fake_Phishing529"))
	f.Add("tornado-cash.csv", []byte(",Address,Name Tag,Balance,Txn Count\n5,0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d,\"Tornado.Cash: 1,00 USDC\",0 ETH,195\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		p, err := parseEtherscanCSV(name, data)
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		checkParsed(t, p)
		for _, tg := range p.tags {
			if tg.Currency != "ETH" || tg.Confidence != etherscanConfidence || !strings.HasPrefix(tg.Source, "https://etherscan.io/") {
				t.Fatalf("bad tag: %+v", tg)
			}
			if tg.AddressProblem == "" && (!isEVM(tg.Address) || NormalizeAddress(tg.Address) != tg.Address) {
				t.Fatalf("address not in stored form and not flagged: %+v", tg)
			}
		}
	})
}
