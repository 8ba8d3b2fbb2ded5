"""Eclipse Paho for Python against the playground's broker, for
broker/interop_test.go:

    python3 interop.py HOST PORT CAFILE PREFIX

connects over TLS trusting CAFILE (MQTT 5, a will on PREFIX/will),
subscribes to PREFIX/echo, publishes to it at QoS 1 with a User Property
(the PUBACK must complete the publish), waits for the message, then ends
the process without a DISCONNECT so that the broker sends the will. Each
step prints one JSON line; a failure prints {"step": ..., "error": ...}
and exits 1. Works with paho-mqtt 1.6 (Debian's python3-paho-mqtt) and 2.x.
"""

import json
import os
import queue
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

host, port, ca_file, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
events = queue.Queue()
step = "connect"


def say(**kw):
    print(json.dumps(kw), flush=True)


def fail(message):
    say(step=step, error=message)
    os._exit(1)


def wait(kind):
    try:
        got, value = events.get(timeout=5)
    except queue.Empty:
        fail("no %s within 5 s" % kind)
    if got != kind:
        fail("got %s, want %s: %r" % (got, kind, value))
    return value


client_id = prefix.replace("/", "-") + "-paho-py"
if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, protocol=mqtt.MQTTv5)
else:
    client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
client.on_connect = lambda c, u, flags, rc, props=None: events.put(("connack", rc))
client.on_subscribe = lambda c, u, mid, granted, props=None: events.put(("suback", granted))
client.on_message = lambda c, u, msg: events.put(("message", msg))
client.on_disconnect = lambda c, u, rc, props=None: events.put(("disconnect", rc))
client.tls_set(ca_certs=ca_file)
client.will_set(prefix + "/will", "paho gone", qos=1)
client.connect(host, port, keepalive=30)
client.loop_start()

rc = wait("connack")
if rc != 0:
    fail("CONNACK %s" % rc)
say(step=step, ok=True)

step = "subscribe"
client.subscribe(prefix + "/echo", qos=1)
granted = wait("suback")
say(step=step, ok=True, granted=str(granted[0]))

step = "puback"
props = Properties(PacketTypes.PUBLISH)
props.UserProperty = ("trace-id", "42")
info = client.publish(prefix + "/echo", "hello from paho", qos=1, properties=props)
info.wait_for_publish(timeout=5)
if not info.is_published():
    fail("the PUBACK did not complete the publish (rc %s)" % info.rc)
say(step=step, ok=True)

step = "receive"
msg = wait("message")
user = dict(msg.properties.UserProperty) if hasattr(msg.properties, "UserProperty") else {}
say(step=step, ok=True, topic=msg.topic, payload=msg.payload.decode(), user=user)

step = "cut"
say(step=step, ok=True)
# No DISCONNECT: the process ends and the system closes its socket, as when
# a device loses power.
os._exit(0)
