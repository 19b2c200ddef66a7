package main

import (
	"os/exec"
	"syscall"
)

// tied makes cmd's process receive SIGTERM when this program dies (killed,
// interrupted, crashed), so that no server or load generator outlives an
// interrupted run and keeps a CPU busy. taskset passes it on to the program
// it executes.
func tied(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd
}
