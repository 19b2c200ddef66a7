package redisstreams

// Hang makes a's node fall silent, as a hung process would (its connections
// stay open): no heartbeats, no answers. For tests of dead-node detection.
func Hang(a *Adapter) { a.hung.Store(true) }
