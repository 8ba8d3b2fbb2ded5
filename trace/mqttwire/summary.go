package mqttwire

import (
	"fmt"
	"strings"
)

// summary builds the one-line description from what was decoded.
func (d *decoder) summary() string {
	var b strings.Builder
	b.WriteString(d.p.Type)
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	switch d.typ {
	case typeConnect:
		d.connectSummary(w)
	case typeConnack:
		d.connackSummary(w)
	case typePublish:
		d.publishSummary(w)
	case typePuback, typePubrec, typePubrel, typePubcomp, typeSubscribe, typeSuback, typeUnsubscribe, typeUnsuback:
		d.ackSummary(w)
	case typeDisconnect, typeAuth:
		d.reasonSummary(w)
	}
	if d.p.Err != nil {
		b.WriteString(" (malformed)")
	}
	return b.String()
}

// printf is how the summary helpers write.
type printf func(format string, args ...any)

func (d *decoder) connectSummary(w printf) {
	if d.hasClient {
		w(" client %s", quote(d.p.ClientID))
	}
	if d.hasUser {
		w(" user %s", quote(d.p.Username))
	}
	if d.hasWill {
		w(" will %s", quote(d.willTopic))
	}
	w(" %s", map[byte]string{3: "v3.1", 4: "v3.1.1", 5: "v5"}[d.ver])
	if d.hasKeep {
		w(" keepalive %d", d.keepAlive)
	}
}

func (d *decoder) connackSummary(w printf) {
	if d.hasReason {
		if d.ver == 5 {
			name, _ := reasonName(d.p.ReasonCode, d.typ)
			w(" %s", name)
		} else if int(d.p.ReasonCode) < len(connackCodes311) {
			w(" %s", connackCodes311[d.p.ReasonCode])
		} else {
			w(" Reserved (%d)", d.p.ReasonCode)
		}
	}
	if d.sessPres {
		w(" session-present")
	}
}

func (d *decoder) publishSummary(w printf) {
	if d.hasTopic {
		w(" %s", quote(d.p.Topic))
	}
	if d.alias != 0 {
		w(" alias=%d", d.alias)
	}
	w(" qos%d", d.qos)
	if d.hasPID {
		w(" id=%d", d.p.PacketID)
	}
	if d.flags&8 != 0 {
		w(" dup")
	}
	if d.flags&1 != 0 {
		w(" retain")
	}
	if d.hasPayload {
		w(" (%d byte%s)", len(d.p.Payload), plural(len(d.p.Payload)))
	}
}

func (d *decoder) ackSummary(w printf) {
	if d.hasPID {
		w(" id=%d", d.p.PacketID)
	}
	if d.ver == 5 && d.hasReason {
		name, _ := reasonName(d.p.ReasonCode, d.typ)
		w(" %s", name)
	}
	if len(d.codes) > 0 {
		w(" %s", strings.Join(d.codes, ", "))
	}
}

func (d *decoder) reasonSummary(w printf) {
	if d.ver == 5 && d.hasReason {
		name, _ := reasonName(d.p.ReasonCode, d.typ)
		w(" %s", name)
	}
	if d.authMethod != "" {
		w(" method %s", quote(d.authMethod))
	}
}
