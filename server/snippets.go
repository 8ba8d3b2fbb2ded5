package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/workshop"
)

// snippets are the connection snippets of an attendee's page: their own
// credentials and topic, the host they reached the page by, the broker's
// ports, and the CA fetched from that host. The page shows them as text
// (templ escapes it); the code is built here, not in the template.
func snippets(me workshop.Me, caPEM string) []pages.Snippet {
	host, sn := me.Host, me.ServerName
	mqtts, mtls, mqtt := me.Ports["mqtts"], me.Ports["mtls"], me.Ports["mqtt"]
	topic := me.Topic + "/hello"
	fetchCA := "curl -O " + shellWord(me.CAURL)
	var out []pages.Snippet
	add := func(name, lang, note, code string) {
		out = append(out, pages.Snippet{Name: name, Lang: lang, Note: note, Code: strings.TrimSpace(code) + "\n"})
	}
	if mqtts != "" {
		add("mosquitto_sub", "sh", "Listen to everything in your space (leave it running).", fetchCA+"\n"+
			shellCommand(mosquittoArgs("mosquitto_sub", me, host, mqtts, "-t", me.Topic+"/#", "-v")))
		add("mosquitto_pub", "sh", "Publish one message with QoS 1: mosquitto_sub above prints it, and the connection appears below.",
			shellCommand(mosquittoArgs("mosquitto_pub", me, host, mqtts, "-t", topic, "-m", "hello from my laptop", "-q", "1")))
	}
	if mtls != "" {
		add("mosquitto_pub with your certificate", "sh", "Mutual TLS on "+mtls+": make a key and a request with your id as common name, "+
			"have it signed with your user name and password, then connect with the certificate instead of a password.",
			"openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout me.key -subj /CN="+me.ID+" -out me.csr\n"+
				"curl -u "+shellWord(me.ID+":"+me.Password)+" --data-binary @me.csr -o me.pem "+shellWord(strings.TrimSuffix(me.CAURL, "/ca.pem")+"/pki/csr")+"\n"+
				shellCommand([]string{"mosquitto_pub", "-h", host, "-p", mtls, "--cafile", "ca.pem", "--cert", "me.pem", "--key", "me.key", "-t", topic, "-m", "hello with my certificate", "-q", "1"}))
	}
	if mqtts != "" {
		add("MQTT.js (Node.js)", "js", "npm install mqtt, then node hello.mjs (ca.pem beside it).", fmt.Sprintf(`
import mqtt from "mqtt";
import { readFileSync } from "node:fs";

const client = mqtt.connect(%s, {
  ca: readFileSync("ca.pem"),
  servername: %s,
  username: %s,
  password: %s,
});
client.on("connect", () => {
  client.subscribe(%s);
  client.publish(%s, "hello from MQTT.js", { qos: 1 });
});
client.on("message", (topic, payload) => console.log(topic, payload.toString()));
client.on("error", (err) => console.error(err.message));
`, jsString("mqtts://"+net.JoinHostPort(strings.Trim(host, "[]"), mqtts)), jsString(sn), jsString(me.ID), jsString(me.Password), jsString(me.Topic+"/#"), jsString(topic)))
		add("Python (paho-mqtt 2)", "python", "pip install paho-mqtt, then python3 hello.py (ca.pem beside it).", fmt.Sprintf(`
import paho.mqtt.client as mqtt

def on_connect(client, userdata, flags, reason, properties):
    client.subscribe(%s, qos=1)
    client.publish(%s, "hello from Python", qos=1)

client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.username_pw_set(%s, %s)
client.tls_set(ca_certs="ca.pem")
client.on_connect = on_connect
client.on_message = lambda c, u, m: print(m.topic, m.payload.decode())
client.connect(%s, %s)
client.loop_forever()
`, pyString(me.Topic+"/#"), pyString(topic), pyString(me.ID), pyString(me.Password), pyString(strings.Trim(host, "[]")), mqtts))
		add("Go (Eclipse Paho)", "go", "go get github.com/eclipse/paho.mqtt.golang, then go run . (ca.pem beside it).", fmt.Sprintf(`
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	pem, err := os.ReadFile("ca.pem")
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	opts := mqtt.NewClientOptions().
		AddBroker(%q).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: %q}).
		SetUsername(%q).SetPassword(%q)
	c := mqtt.NewClient(opts)
	if t := c.Connect(); t.Wait() && t.Error() != nil {
		panic(t.Error())
	}
	c.Subscribe(%q, 1, func(_ mqtt.Client, m mqtt.Message) { fmt.Println(m.Topic(), string(m.Payload())) }).Wait()
	c.Publish(%q, 1, false, "hello from Go").Wait()
	select {}
}
`, "ssl://"+net.JoinHostPort(strings.Trim(host, "[]"), mqtts), sn, me.ID, me.Password, me.Topic+"/#", topic))
		add("Arduino / ESP32 (PubSubClient)", "cpp", "The CA is in the sketch; set your Wi-Fi. The ESP32 must reach "+strings.Trim(host, "[]")+" and know the time for the certificate check.", fmt.Sprintf(`
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <PubSubClient.h>

const char *ssid = "YOUR-WIFI", *wifiPassword = "YOUR-WIFI-PASSWORD";
const char *caPEM = %s;

WiFiClientSecure net;
PubSubClient mqtt(net);

void setup() {
  Serial.begin(115200);
  WiFi.begin(ssid, wifiPassword);
  while (WiFi.status() != WL_CONNECTED) delay(250);
  configTime(0, 0, "pool.ntp.org");  // certificates need the date
  net.setCACert(caPEM);
  mqtt.setServer(%s, %s);
  mqtt.setCallback([](char *topic, byte *payload, unsigned int n) {
    Serial.printf("%%s %%.*s\n", topic, n, (const char *)payload);
  });
}

void loop() {
  if (!mqtt.connected() && mqtt.connect(%s, %s, %s)) {
    mqtt.subscribe(%s);
    mqtt.publish(%s, "hello from my ESP32");
  }
  mqtt.loop();
}
`, cString(caPEM), cString(strings.Trim(host, "[]")), mqtts, cString(me.ID+"-esp32"), cString(me.ID), cString(me.Password), cString(me.Topic+"/#"), cString(topic)))
	}
	if mqtt != "" {
		add("mosquitto_pub without TLS (port "+mqtt+")", "sh", "The same on the plain port: anyone on the network can read your password. Compare the two in the broker view.",
			shellCommand([]string{"mosquitto_pub", "-h", host, "-p", mqtt, "-u", me.ID, "-P", me.Password, "-t", topic, "-m", "hello in the clear", "-q", "1"}))
	}
	return out
}

// mosquittoArgs is a mosquitto command line for the mqtts listener with the
// attendee's credentials, then extra.
func mosquittoArgs(cmd string, me workshop.Me, host, port string, extra ...string) []string {
	return append([]string{cmd, "-h", host, "-p", port, "--cafile", "ca.pem", "-u", me.ID, "-P", me.Password}, extra...)
}

// shellCommand joins words into one POSIX shell command line.
func shellCommand(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellWord(w)
	}
	return strings.Join(quoted, " ")
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string { return strconv.Quote(s) }

// pyString is s as a Python string literal (Python reads Go's quoting of
// printable ASCII alike).
func pyString(s string) string { return strconv.QuoteToASCII(s) }

// cString is s as a C string literal, one line of s per line of source.
func cString(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for i, l := range lines {
		if l == "" {
			continue
		}
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(strconv.QuoteToASCII(l))
	}
	return b.String()
}
