package testproc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartStopTail(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("/bin/sh", []string{"-c", "echo started; exec sleep 60"}, dir, filepath.Join(dir, "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(p.Tail(100), "started") {
		time.Sleep(5 * time.Millisecond)
	}
	if p.Exited() || p.Err() != nil || p.PID() <= 0 {
		t.Fatalf("running: exited %v err %v pid %d", p.Exited(), p.Err(), p.PID())
	}
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, f) }
	p.Stop(syscall.SIGTERM, 10*time.Second, logf)
	if !p.Exited() || p.Err() == nil || len(logged) != 0 {
		t.Fatalf("after SIGTERM: exited %v err %v log %v", p.Exited(), p.Err(), logged)
	}
	p.Stop(syscall.SIGTERM, time.Second, logf) // harmless again
	if got := p.Tail(3); got != "ed\n" {
		t.Fatalf("tail %q", got)
	}
}

func TestStopKillsWhatIgnoresTheSignal(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("/bin/sh", []string{"-c", `trap "" INT; echo ready; while :; do sleep 1; done`}, dir, filepath.Join(dir, "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(p.Tail(100), "ready") {
		time.Sleep(5 * time.Millisecond)
	}
	var logged []string
	p.Stop(syscall.SIGINT, 50*time.Millisecond, func(f string, a ...any) { logged = append(logged, f) })
	if !p.Exited() || len(logged) != 1 || !strings.Contains(logged[0], "killing") {
		t.Fatalf("exited %v, log %v", p.Exited(), logged)
	}
}

func TestFreePortAndTool(t *testing.T) {
	if p, err := FreePort(); err != nil || p <= 0 {
		t.Fatalf("FreePort %d %v", p, err)
	}
	if _, err := Start(filepath.Join(t.TempDir(), "nope"), nil, t.TempDir(), filepath.Join(t.TempDir(), "log")); err == nil || !strings.Contains(err.Error(), "testproc: start") {
		t.Fatalf("start of a missing program: %v", err)
	}
	dir := t.TempDir()
	t.Setenv("VESTIGO_TOOLS", dir)
	if _, err := Tool("geth"); err == nil || !strings.Contains(err.Error(), "run scripts/tools.sh") {
		t.Fatalf("missing tool: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "geth"), []byte("#!/bin/sh\n"), 0o755)
	if p, err := Tool("geth"); err != nil || p != filepath.Join(dir, "geth") {
		t.Fatalf("tool %q %v", p, err)
	}
	os.WriteFile(filepath.Join(dir, "btcd"), []byte("not executable"), 0o644)
	if _, err := Tool("btcd"); err == nil {
		t.Fatal("a non-executable file was accepted")
	}
	t.Setenv("VESTIGO_TOOLS", "")
	root, err := RepoRoot()
	if err != nil || !isFile(filepath.Join(root, "scripts", "tools.sh")) {
		t.Fatalf("root %q %v", root, err)
	}
}
