package tags

import "testing"

func TestSearchLabels(t *testing.T) {
	s := openStore(t, Options{})
	body := plainGood + "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,50%_off wallet,exchange,https://example.org/x,80\r\n"
	mustImport(t, s, writeFile(t, t.TempDir(), "case.csv", body), "")
	for _, tc := range []struct {
		q    string
		want []string // labels in order
	}{
		{"whirl", []string{"Samourai whirlpool"}},
		{"WHIRLPOOL", []string{"Samourai whirlpool"}}, // case folded
		{"o", []string{"50%_off wallet", "Samourai whirlpool", "Tornado.Cash"}},
		{"%", []string{"50%_off wallet"}}, // LIKE wildcards match only themselves
		{"_", []string{"50%_off wallet"}},
		{"nothing like it", nil},
		{"  ", nil},
	} {
		got, err := s.SearchLabels(ctx0, tc.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, g := range got {
			labels = append(labels, g.Label)
		}
		if len(labels) != len(tc.want) {
			t.Fatalf("%q: %q, want %q", tc.q, labels, tc.want)
		}
		for i := range labels {
			if labels[i] != tc.want[i] {
				t.Fatalf("%q: %q, want %q", tc.q, labels, tc.want)
			}
		}
	}
	if got, _ := s.SearchLabels(ctx0, "o", 2); len(got) != 2 {
		t.Fatalf("limit 2 gave %d", len(got))
	}
	got, _ := s.SearchLabels(ctx0, "7ev3n", 1)
	if len(got) != 1 || got[0].Address != "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78" || got[0].Source == "" || got[0].ConfidenceLevel != 50 {
		t.Fatalf("%+v", got)
	}
}
