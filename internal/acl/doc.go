// Package acl reads Stadion's authorization file (serve --acl_file) and
// decides which actions a principal may take on which app and group ids,
// as Marathon's authorization plugins and Mesos's ACLs do. It does no I/O
// beyond reading the file; the API enforces its decisions.
package acl
