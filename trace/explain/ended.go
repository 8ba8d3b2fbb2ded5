package explain

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
)

// Ended says in plain words why a connection ended, given what a read or
// write on it returned (a net.Conn's error, a TLS alert, a WebSocket
// tunnel's error); peer names the other end: "the client", "the broker".
// It returns "" for nil. Errors it does not know keep their own words.
func Ended(err error, peer string) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error: tls: "):
		alert := msg[strings.Index(msg, "remote error: tls: ")+len("remote error: tls: "):]
		return peer + " ended the connection with the TLS alert \"" + alert + "\""
	case strings.Contains(msg, "bad record MAC"):
		return "a TLS record failed its integrity check: its bytes were changed on the way, or " + peer + " used other keys"
	case strings.Contains(msg, "failed to get reader"), strings.Contains(msg, "failed to read frame"),
		strings.Contains(msg, "websocket"), strings.Contains(msg, "StatusGoingAway"), strings.Contains(msg, "StatusNormalClosure"):
		return "the WebSocket tunnel the connection ran in was closed (a page closed or reloaded, or the server stopped)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "i/o timeout"):
		return "nothing arrived from " + peer + " in time (its keep-alive ran out)"
	case errors.Is(err, context.Canceled), strings.Contains(msg, "context canceled"):
		return "the connection was closed on this side"
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"):
		return peer + " dropped the connection without closing it (connection reset)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), strings.Contains(msg, "use of closed network connection"):
		return peer + " closed the connection"
	}
	return msg
}
