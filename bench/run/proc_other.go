//go:build !linux

package main

import "os/exec"

// tied leaves cmd as it is: only Linux can signal a child when its parent
// dies (the benchmarks need Linux's taskset and /proc anyway).
func tied(cmd *exec.Cmd) *exec.Cmd { return cmd }
