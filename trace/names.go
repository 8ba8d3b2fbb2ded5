package trace

import "fmt"

// MQTTReasonName names an MQTT 5.0 reason code (MQTT 5.0 §2.4), for
// messages about CONNACK, PUBACK, SUBACK and similar acknowledgements.
func MQTTReasonName(code byte) string {
	if _, ok := mqttReasons[code]; !ok {
		return fmt.Sprintf("unknown reason code 0x%02x", code)
	}
	name, _ := mqttReasonName(code, mqttConnack)
	return name
}
