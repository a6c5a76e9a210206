package testproc

import "syscall"

// sysProcAttr makes the kernel kill the node if the test process dies
// without running its cleanups (a panic, a test timeout, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
