package wrapper

// Tiny builders for snapshots in table tests.

func pair(key, value string, index uint64) Pair {
	return Pair{Key: key, Value: []byte(value), ModifyIndex: index}
}

func snapshot(index uint64, pairs ...Pair) Snapshot {
	return Snapshot{Index: index, Pairs: pairs}
}
