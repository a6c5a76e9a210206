// Package testproc runs the real programs that tests start and stop
// themselves (btcd, geth): a process with its output in a log file, stopped
// with a signal and a grace period, killed by the kernel if the test process
// dies first (Linux), found where scripts/tools.sh installs it. It is a test
// harness: only tests and the other harness packages import it.
//
// Concepts: Start runs a program; Process reports its PID, whether it has
// exited, the tail of its log, and stops it (Stop: the program's shutdown
// signal, then SIGKILL after the grace period; it always waits until the
// process is reaped). FreePort asks the kernel for a free loopback port.
// Tool finds an installed program: $VESTIGO_TOOLS/<name> if that is set,
// else .tools/bin/<name> under the repository root (the directory holding
// go.mod and scripts/tools.sh).
//
// Errors: Start and Tool fail with a "testproc:" error naming the program;
// a missing tool says to run scripts/tools.sh.
package testproc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Process is a running program of a test.
type Process struct {
	// LogFile holds the program's standard output and error.
	LogFile string

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Start runs bin with args in dir, its output appended to logFile.
func Start(bin string, args []string, dir, logFile string) (*Process, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("testproc: create the log of %s: %w", filepath.Base(bin), err)
	}
	defer out.Close() // the child has its own descriptor
	p := &Process{LogFile: logFile, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout = out
	p.cmd.Stderr = out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("testproc: start %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.exited }

// Exited reports whether the process has exited and been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Err is how the process ended (nil before it has).
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Stop sends sig (the program's clean shutdown), waits up to grace, then
// kills the process; it returns once the process is reaped. logf hears of
// a signal that could not be sent and of a kill. Calling Stop more than
// once is harmless.
func (p *Process) Stop(sig os.Signal, grace time.Duration, logf func(format string, args ...any)) {
	p.stopOnce.Do(func() {
		if p.Exited() {
			return
		}
		name := filepath.Base(p.cmd.Path)
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			logf("testproc: %v to %s pid %d: %v", sig, name, p.PID(), err)
		}
		select {
		case <-p.exited:
			return
		case <-time.After(grace):
		}
		logf("testproc: %s pid %d ignored %v for %v; killing it", name, p.PID(), sig, grace)
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			logf("testproc: SIGKILL to %s pid %d: %v", name, p.PID(), err)
		}
		<-p.exited
	})
}

// Tail returns the last n bytes of the log (or why it cannot be read).
func (p *Process) Tail(n int64) string {
	f, err := os.Open(p.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		if _, err := f.Seek(-n, io.SeekEnd); err != nil {
			return fmt.Sprintf("(cannot read log: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return string(b)
}

// FreePort asks the kernel for a free loopback TCP port. Another process
// may take it before the program binds it: callers retry on a bind error.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// Tool returns the absolute path of a program installed by
// scripts/tools.sh: $VESTIGO_TOOLS/<name> if that is set, else
// <repository root>/.tools/bin/<name>. A missing or non-executable file
// is an error that says to run scripts/tools.sh.
func Tool(name string) (string, error) {
	dir := os.Getenv("VESTIGO_TOOLS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".tools", "bin")
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("testproc: path of %s: %w", name, err)
	}
	if err := Executable(p); err != nil {
		return "", fmt.Errorf("testproc: %s is not installed at %s: run scripts/tools.sh (make tools)", name, p)
	}
	return p, nil
}

// Executable reports whether p is an executable regular file.
func Executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("testproc: %s is not an executable file", p)
	}
	return nil
}

// RepoRoot walks up from the working directory to the directory holding
// both go.mod and scripts/tools.sh.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testproc: working directory: %w", err)
	}
	for dir := wd; ; {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, "scripts", "tools.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testproc: no directory above %s holds go.mod and scripts/tools.sh; set VESTIGO_TOOLS to the tools' bin directory", wd)
		}
		dir = parent
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
