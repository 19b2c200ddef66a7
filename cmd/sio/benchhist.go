package main

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: 32 sub-buckets per power
// of two, so a percentile is read to within about 3%. It is not safe for
// concurrent use: each connection keeps its own and they are merged at the end.
type histogram struct {
	counts [64 * histSub]uint64
	n      uint64
	max    time.Duration
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits
)

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits // >= 1
	return e*histSub + int(v>>uint(e-1)) - histSub
}

// histLow returns the smallest value of bucket i (the inverse of histIndex).
func histLow(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := i / histSub
	return uint64(i%histSub+histSub) << uint(e-1)
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the upper bound of the bucket holding quantile q (0..1).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			hi := time.Duration(histLow(i+1) - 1)
			if hi > h.max {
				hi = h.max
			}
			return hi
		}
	}
	return h.max
}
