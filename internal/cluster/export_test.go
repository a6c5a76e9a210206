package cluster

// SetBatchMerges lets benchmarks in package cluster_test vary the batch.
func SetBatchMerges(n int) (old int) { old, batchMerges = batchMerges, n; return old }
