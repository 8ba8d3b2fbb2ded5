package trace

// EventTypes are the values [Event.Type] takes: the names of the TLS
// records and handshake messages and of the MQTT control packets the
// decoders report, and the two events of the stream itself. A message or
// packet of a type without a name here is reported by number, as
// "Unknown(N)" (TLS handshake message or record content type N) or
// "Reserved(N)" (MQTT packet type N, or AUTH before MQTT 5): their
// prefixes Unknown and Reserved are listed too. Lessons name event types
// from this list.
var EventTypes = []string{
	// TLS handshake messages (RFC 8446 §4, RFC 5246 §7.4); a ServerHello
	// whose random is the special value of RFC 8446 §4.1.3 is a
	// HelloRetryRequest.
	"HelloRequest", "ClientHello", "ServerHello", "HelloRetryRequest", "NewSessionTicket",
	"EndOfEarlyData", "EncryptedExtensions", "Certificate", "ServerKeyExchange",
	"CertificateRequest", "ServerHelloDone", "CertificateVerify", "ClientKeyExchange",
	"Finished", "CertificateStatus", "KeyUpdate", "MessageHash",
	// TLS records other than handshake records (RFC 8446 §5.1, RFC 6520).
	"ChangeCipherSpec", "Alert", "ApplicationData", "Heartbeat",
	// MQTT control packets (MQTT 5.0 §2.1.2).
	"CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP",
	"DISCONNECT", "AUTH",
	// Of either layer: bytes the recorder dropped (see [Chunk.Gap]), and
	// bytes that break the layer's framing, after which the stream is not
	// decoded further.
	"Gap", "Malformed",
	// Types without a name, by number: "Unknown(N)", "Reserved(N)".
	"Unknown", "Reserved",
}
