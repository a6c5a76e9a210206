package api

import (
	"net"
	"net/http/httptest"
	"testing"
)

// TestTrustedProxy: X-Forwarded-For and X-Forwarded-Proto count only from
// a configured proxy; from anyone else they are ignored.
func TestTrustedProxy(t *testing.T) {
	_, lo, _ := net.ParseCIDR("10.0.0.0/8")
	s := &Server{proxies: []*net.IPNet{lo}}
	req := func(peer, fwd, proto string) (string, bool) {
		r := httptest.NewRequest("POST", "/api/v1/login", nil)
		r.RemoteAddr = peer
		if fwd != "" {
			r.Header.Set("X-Forwarded-For", fwd)
		}
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		return s.clientIP(r), s.secure(r)
	}
	for _, tc := range []struct {
		peer, fwd, proto string
		ip               string
		secure           bool
	}{
		{"10.1.2.3:4000", "203.0.113.9", "https", "203.0.113.9", true},
		{"10.1.2.3:4000", "198.51.100.1, 203.0.113.9", "http", "203.0.113.9", false}, // the proxy's own entry is the last
		{"10.1.2.3:4000", "", "", "10.1.2.3", false},
		{"10.1.2.3:4000", "not-an-ip", "", "10.1.2.3", false},
		{"192.0.2.7:4000", "203.0.113.9", "https", "192.0.2.7", false}, // not a proxy: headers ignored
	} {
		ip, sec := req(tc.peer, tc.fwd, tc.proto)
		if ip != tc.ip || sec != tc.secure {
			t.Errorf("peer %s, X-Forwarded-For %q, proto %q: client %s secure %v; want %s %v", tc.peer, tc.fwd, tc.proto, ip, sec, tc.ip, tc.secure)
		}
	}
	s.secureCookies = true
	if _, sec := req("192.0.2.7:4000", "", ""); !sec {
		t.Error("SecureCookies did not mark the cookie secure")
	}
}
