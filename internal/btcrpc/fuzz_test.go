package btcrpc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
)

// FuzzResponseBody serves arbitrary bodies to every kind of call: the
// client must answer with a result or a one-line error, never panic.
// The seeds run as part of the normal tests; go test -fuzz explores more.
func FuzzResponseBody(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `{}`, `[]`, `[{}]`, `{"result":1,"error":null,"id":1}`,
		`[{"result":"00","error":null,"id":1},{"result":"00","error":null,"id":2}]`,
		`{"result":"` + strings.Repeat("0", 162) + `","error":null,"id":1}`,
		`{"result":null,"error":{"code":-5,"message":"Block not found"},"id":1}`,
		`{"result":null,"error":{"code":1e400},"id":1}`, `{"id":18446744073709551616}`,
		`[{"id":1},{"id":1}]`, `"\ud800"`, "\xff\xfe", `{"result":"\u0000"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(body))
		}))
		defer srv.Close()
		c, err := btcrpc.New(btcrpc.Config{URL: srv.URL, User: "u", Pass: "secret-pass", MaxResponseBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testContext(t)
		var errs []error
		_, err = c.BlockCount(ctx)
		errs = append(errs, err)
		_, err = c.BlockHash(ctx, 1)
		errs = append(errs, err)
		_, err = c.BlockHashes(ctx, 1, 2)
		errs = append(errs, err)
		_, err = c.RawBlock(ctx, chainhash.Hash{})
		errs = append(errs, err)
		_, err = c.RawBlocks(ctx, []chainhash.Hash{{}, {1}})
		errs = append(errs, err)
		_, err = c.NodeInfo(ctx)
		errs = append(errs, err)
		_, err = c.Network(ctx)
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil {
				checkOneLine(t, err)
			}
		}
	})
}
