package mqttwire

import (
	"fmt"
	"strings"
)

// summary builds the one-line description from what was decoded.
func (d *decoder) summary() string {
	var b strings.Builder
	b.WriteString(d.p.Type)
	switch d.typ {
	case TypeConnect:
		d.connectSummary(&b)
	case TypeConnack:
		d.connackSummary(&b)
	case TypePublish:
		d.publishSummary(&b)
	case TypePuback, TypePubrec, TypePubrel, TypePubcomp, TypeSubscribe, TypeSuback, TypeUnsubscribe, TypeUnsuback:
		d.ackSummary(&b)
	case TypeDisconnect, TypeAuth:
		d.reasonSummary(&b)
	}
	if d.p.Err != nil {
		b.WriteString(" (malformed)")
	}
	return b.String()
}

func (d *decoder) connectSummary(b *strings.Builder) {
	if d.hasClient {
		fmt.Fprintf(b, " client %s", quote(d.p.ClientID))
	}
	if d.hasUser {
		fmt.Fprintf(b, " user %s", quote(d.p.Username))
	}
	if d.hasWill {
		fmt.Fprintf(b, " will %s", quote(d.willTopic))
	}
	fmt.Fprintf(b, " %s", map[byte]string{3: "v3.1", 4: "v3.1.1", 5: "v5"}[d.ver])
	if d.hasKeep {
		fmt.Fprintf(b, " keepalive %d", d.keepAlive)
	}
}

func (d *decoder) connackSummary(b *strings.Builder) {
	if d.hasReason {
		if d.ver == 5 {
			name, _ := reasonName(d.p.ReasonCode, d.typ)
			fmt.Fprintf(b, " %s", name)
		} else if int(d.p.ReasonCode) < len(connackCodes311) {
			fmt.Fprintf(b, " %s", connackCodes311[d.p.ReasonCode])
		} else {
			fmt.Fprintf(b, " Reserved (%d)", d.p.ReasonCode)
		}
	}
	if d.sessPres {
		fmt.Fprintf(b, " session-present")
	}
}

func (d *decoder) publishSummary(b *strings.Builder) {
	if d.hasTopic {
		fmt.Fprintf(b, " %s", quote(d.p.Topic))
	}
	if d.alias != 0 {
		fmt.Fprintf(b, " alias=%d", d.alias)
	}
	fmt.Fprintf(b, " qos%d", d.qos)
	if d.hasPID {
		fmt.Fprintf(b, " id=%d", d.p.PacketID)
	}
	if d.flags&8 != 0 {
		fmt.Fprintf(b, " dup")
	}
	if d.flags&1 != 0 {
		fmt.Fprintf(b, " retain")
	}
	if d.hasPayload {
		fmt.Fprintf(b, " (%d byte%s)", len(d.p.Payload), plural(len(d.p.Payload)))
	}
}

func (d *decoder) ackSummary(b *strings.Builder) {
	if d.hasPID {
		fmt.Fprintf(b, " id=%d", d.p.PacketID)
	}
	if d.ver == 5 && d.hasReason {
		name, _ := reasonName(d.p.ReasonCode, d.typ)
		fmt.Fprintf(b, " %s", name)
	}
	if len(d.codes) > 0 {
		fmt.Fprintf(b, " %s", strings.Join(d.codes, ", "))
	}
}

func (d *decoder) reasonSummary(b *strings.Builder) {
	if d.ver == 5 && d.hasReason {
		name, _ := reasonName(d.p.ReasonCode, d.typ)
		fmt.Fprintf(b, " %s", name)
	}
	if d.authMethod != "" {
		fmt.Fprintf(b, " method %s", quote(d.authMethod))
	}
}
