package state

// TrimVersions returns the versions to drop so that at most limit remain:
// the oldest first, never current. versions must be sorted oldest first
// (the order of marathon.Timestamp.String for the years 1000 to 9999);
// a limit below 1 counts as 1. Stores call it after writing a new version.
func TrimVersions(versions []string, current string, limit int) []string {
	excess := len(versions) - max(limit, 1)
	var drop []string
	for _, v := range versions {
		if excess <= 0 {
			break
		}
		if v == current {
			continue
		}
		drop = append(drop, v)
		excess--
	}
	return drop
}
