package main

import "syscall"

// childAttr makes a child process get SIGTERM if this process dies first,
// so that no node or nginx outlives the launcher.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
