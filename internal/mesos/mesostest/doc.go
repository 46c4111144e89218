// Package mesostest provides a fake Mesos master for unit tests of scheduler
// code: an httptest.Server that speaks the v1 scheduler API, records every
// request and lets the test push events, drop the stream, redirect and
// choose the answers.
package mesostest
