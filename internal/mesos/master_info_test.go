package mesos

import (
	"net/netip"
	"testing"
)

func TestPackIP(t *testing.T) {
	tests := []struct {
		name string
		ip   string
		want uint32
	}{
		{name: "loopback", ip: "127.0.0.1", want: 16777343},
		{name: "debian loopback alias", ip: "127.0.1.1", want: 16842879},
		{name: "mapped v4", ip: "::ffff:127.0.0.1", want: 16777343},
		{name: "v6", ip: "::1", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			if got := PackIP(ip); got != tc.want {
				t.Fatalf("PackIP(%s) = %d, want %d", tc.ip, got, tc.want)
			}
			if tc.want != 0 && UnpackIP(tc.want) != ip.Unmap() {
				t.Fatalf("UnpackIP(%d) = %s", tc.want, UnpackIP(tc.want))
			}
		})
	}
}

func TestMasterInfoEndpoint(t *testing.T) {
	tests := []struct {
		name string
		info MasterInfo
		want string
	}{
		{name: "address ip", info: MasterInfo{Hostname: "m1", IP: 16777343, Port: 5050, Address: &Address{Hostname: "m1", IP: "10.0.0.1", Port: 5060}}, want: "10.0.0.1:5060"},
		{name: "address hostname only", info: MasterInfo{Port: 5050, Address: &Address{Hostname: "m1.example", Port: 5050}}, want: "m1.example:5050"},
		{name: "no address", info: MasterInfo{Hostname: "m1", IP: 16842879, Port: 5050}, want: "127.0.1.1:5050"},
		{name: "no address no ip", info: MasterInfo{Hostname: "m1", Port: 5050}, want: "m1:5050"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.info.Endpoint(); got != tc.want {
				t.Fatalf("Endpoint() = %q, want %q", got, tc.want)
			}
		})
	}
}
