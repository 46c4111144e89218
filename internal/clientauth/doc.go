// Package clientauth gives the tools' HTTP clients of a Marathon-compatible
// API (stadion registrator, deploy and wrap) their HTTP Basic credentials
// and TLS settings: where the credentials come from, which requests carry
// them (only those to the URLs the user named, so a redirect elsewhere
// never receives them) and how URLs are printed without them.
package clientauth
