// Package statetest is the contract test suite of state.Store: every
// implementation calls Run from its tests and must pass it unchanged.
package statetest
