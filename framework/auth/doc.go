// Package auth carries who made an API request from authentication (the
// HTTP server checks credentials) to authorization (the ACL decides what
// the principal may see and do).
package auth
