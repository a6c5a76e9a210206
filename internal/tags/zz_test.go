package tags

import (
	"bytes"
	"math/rand"
	"path/filepath"
	"testing"
	"time"
)

func mutate(r *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	for n := r.Intn(8) + 1; n > 0; n-- {
		if len(b) == 0 {
			b = append(b, byte(r.Intn(256)))
			continue
		}
		i := r.Intn(len(b))
		switch r.Intn(6) {
		case 0:
			b[i] = byte(r.Intn(256))
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			j := r.Intn(len(b))
			if i > j {
				i, j = j, i
			}
			b = append(b[:j:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
		case 3:
			b = b[:i]
		case 4:
			b = append(b[:i:i], append([]byte{",;\n\"-:[{&*"[r.Intn(11)]}, b[i:]...)...)
		case 5:
			b = bytes.Replace(b, []byte(" - XBT "), []byte(" - ETH "), 1)
		}
	}
	return b
}

func TestZZStress(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sdn := readFile(t, sdnCSV)
	com := readFile(t, sdnCom)
	yml := [][]byte{readFile(t, filepath.Join(packDir, "lazarus.yaml")), readFile(t, filepath.Join(packDir, "ronin_bridge.yaml")), readFile(t, filepath.Join(packDir, "forsage.yaml"))}
	xml := readFile(t, sdnXML)
	csv := []byte(plainGood)
	deadline := time.Now().Add(40 * time.Second)
	n := 0
	var worst time.Duration
	for time.Now().Before(deadline) {
		st := time.Now()
		s2, c2 := mutate(r, sdn), mutate(r, com)
		parseOFACCSV(&ofacCSVInput{"s", s2}, &ofacCSVInput{"c", c2}, nil)
		parseOFACCSV(&ofacCSVInput{"s", s2}, nil, nil)
		parseOFACCSV(nil, &ofacCSVInput{"c", c2}, nil)
		parseYAMLPack("y", mutate(r, yml[r.Intn(3)]), defaultLimits())
		parseOFACXML("x", bytes.NewReader(mutate(r, xml)))
		parseCSV("c", mutate(r, csv))
		if d := time.Since(st); d > worst {
			worst = d
		}
		n++
	}
	t.Log(n, worst)
}
