//go:build !linux

package btcdtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
