// Package recordio reads and writes RecordIO, the framing of Mesos's
// streaming HTTP responses: each record is its length in decimal ASCII, a
// line feed, then that many bytes, with nothing between records.
package recordio
