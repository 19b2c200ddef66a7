//go:build race

package rawio

// raceEnabled: the race detector makes sync.Pool drop some of what is put
// back, so allocation counts are not checked under it.
const raceEnabled = true
