package hookd

// MemoryBucketCount says how many buckets m holds, for tests.
func MemoryBucketCount(m *MemoryBuckets) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
