package gethtest

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkListening fails the test unless the node's process listens on its
// HTTP port and on nothing else (no TCP listener, no bound UDP socket).
func checkListening(t *testing.T, n *Node) {
	t.Helper()
	got := listening(t, n.PID())
	want := []string{"tcp " + strings.TrimPrefix(n.URL, "http://")}
	if !slices.Equal(got, want) {
		t.Fatalf("geth listens on %v, want only %v", got, want)
	}
}

// listening returns the listening TCP and the bound UDP sockets of a
// process as "tcp 127.0.0.1:8545", read from /proc.
func listening(t *testing.T, pid int) []string {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			const tcpListen = "0A"
			if strings.HasPrefix(proto, "tcp") && f[3] != tcpListen {
				continue
			}
			out = append(out, strings.TrimSuffix(proto, "6")+" "+procAddr(t, f[1]))
		}
	}
	slices.Sort(out)
	return out
}

// procAddr decodes a /proc/net address "0100007F:1F90": the IP in host
// (little-endian) order per 32-bit word, the port in hex.
func procAddr(t *testing.T, s string) string {
	t.Helper()
	ipHex, portHex, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(ipHex)
	port, perr := strconv.ParseUint(portHex, 16, 16)
	if !ok || err != nil || perr != nil || len(b)%4 != 0 {
		t.Fatalf("bad /proc/net address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.JoinHostPort(net.IP(b).String(), strconv.FormatUint(port, 10))
}
