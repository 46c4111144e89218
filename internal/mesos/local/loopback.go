package local

import (
	"fmt"
	"net"
	"net/netip"
)

// firstAgentIP is the loopback address of the first agent; the master
// and `stadion serve`'s API keep 127.0.0.1.
var firstAgentIP = netip.AddrFrom4([4]byte{127, 0, 0, 2})

// agentIP returns the loopback address of agent i: 127.0.0.2 for the
// first, 127.0.0.3 for the second, and on into 127.0.1.0 and up. Each
// agent of the built-in cluster stands in for a machine of its own, so it
// listens on, and reports as its hostname, an address of its own:
// constraints such as hostname:UNIQUE then place as they would on a real
// cluster.
func agentIP(i int) (string, error) {
	b := firstAgentIP.As4()
	n := uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += uint32(i)
	if i < 0 || n >= 1<<24-1 {
		return "", fmt.Errorf("no loopback address left for agent %d", i)
	}
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)}).String(), nil
}

// loopbackSpread reports whether this host answers on loopback addresses
// other than 127.0.0.1. Linux routes all of 127.0.0.0/8 to lo; macOS and
// the BSDs configure 127.0.0.1 only unless aliases are added.
func loopbackSpread() bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(firstAgentIP.String(), "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
