package main

import (
	"math"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		live uint64
		want int64
	}{
		{0, minMemoryLimit},
		{10 << 20, minMemoryLimit},
		{14 << 20, minMemoryLimit},
		{16 << 20, 32 << 20},
		{40 << 20, 80 << 20},
		{math.MaxUint64, math.MaxInt64},
	} {
		if got := memoryLimit(tt.live); got != tt.want {
			t.Errorf("memoryLimit(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}
