// Package mesos is Stadion's client of the Apache Mesos v1 scheduler HTTP API.
//
// The wire types follow Mesos's own JSON mapping of its protobufs (stout's
// protobuf.hpp): snake_case keys, enums as their value names, bytes as
// standard base64 and 64-bit integers as exact JSON numbers. Fields that
// Stadion never interprets but must carry through unchanged are kept as
// json.RawMessage so that a decode followed by an encode loses nothing.
package mesos
