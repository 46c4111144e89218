// Package memstore is an in-memory state.Store for unit tests of the
// scheduler: it keeps records as the durable stores encode them (JSON), so
// that what a test reads back matches what bbolt would return, but it loses
// everything with the process.
package memstore
