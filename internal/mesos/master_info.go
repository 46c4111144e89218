package mesos

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
)

// PackIP packs an IPv4 address as MasterInfo.ip has it: the four bytes in
// network order read as a little-endian integer (127.0.0.1 is 16777343). An
// address that is not IPv4 packs to 0.
func PackIP(ip netip.Addr) uint32 {
	if !ip.Is4() && !ip.Is4In6() {
		return 0
	}
	b := ip.Unmap().As4()
	return binary.LittleEndian.Uint32(b[:])
}

// UnpackIP reverses PackIP.
func UnpackIP(v uint32) netip.Addr {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// Endpoint returns the master's host:port: address.ip, else address.hostname,
// with address.port; masters older than 0.24 have no address, and then the
// packed ip (or hostname) and port are used.
func (m *MasterInfo) Endpoint() string {
	if a := m.Address; a != nil && a.Port != 0 {
		host := a.IP
		if host == "" {
			host = a.Hostname
		}
		if host != "" {
			return net.JoinHostPort(host, strconv.Itoa(int(a.Port)))
		}
	}
	host := m.Hostname
	if m.IP != 0 {
		host = UnpackIP(m.IP).String()
	}
	return net.JoinHostPort(host, strconv.Itoa(int(m.Port)))
}
