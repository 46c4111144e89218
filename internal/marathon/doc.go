// Package marathon holds the Marathon 1.10 /v2 wire model shared by the
// scheduler's HTTP API and the client tools: the JSON types with their
// custom encodings, a strict decoder that reports Marathon's error bodies,
// normalisation of legacy input to the canonical form, validation, and the
// helpers the scheduler needs for task ids and task environments.
//
// The server pipeline for an app body is DecodeApp (400/422 "Invalid JSON"),
// Normalize (legacy fields to canonical, defaults) and Validate (422 "Object
// is not valid"); ParseApp runs all three. App.MarshalJSON emits the
// canonical fields plus the legacy fields old clients still read.
package marathon
