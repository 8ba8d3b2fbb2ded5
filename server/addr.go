package main

import (
	"net"
	"net/netip"
)

// dialHost returns the host and port a client should dial to reach a
// listener bound to addr (host:port). A listener on every interface (no
// host, 0.0.0.0 or ::) is reached at near, the host the client already
// reached this server by, when it is known, and at 127.0.0.1 otherwise.
func dialHost(addr, near string) (host, port string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.Unmap().IsUnspecified() {
		host = "127.0.0.1"
		if near != "" {
			host = near
		}
	}
	return host, port
}

// urlFor makes a URL a person on this machine can open for a web server
// listening at addr.
func urlFor(scheme, addr string) string {
	host, port := dialHost(addr, "")
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
