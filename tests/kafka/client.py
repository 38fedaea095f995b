"""An ordinary Kafka client (confluent-kafka) for the end-to-end tests: it writes and reads
topics on the test broker the way any third-party producer or tool would.

    client.py produce BOOTSTRAP TOPIC      < one value per line
    client.py keys BOOTSTRAP TOPIC         prints every record's key, then its value
    client.py committed BOOTSTRAP GROUP TOPIC PARTITIONS
    client.py describe BOOTSTRAP TOPIC       prints partitions=N cleanup.policy=P
"""
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource


def produce(bootstrap, topic):
    producer = Producer({"bootstrap.servers": bootstrap})
    for line in sys.stdin:
        if line.strip():
            producer.produce(topic, value=line.rstrip("\n").encode())
    if producer.flush(30) != 0:
        sys.exit("records were not delivered")


def keys(bootstrap, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "wasmconnect-test-reader",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    remaining = set(partitions)
    while remaining:
        message = consumer.poll(10)
        if message is None:
            sys.exit("timed out reading " + topic)
        if message.error():
            if message.error().code() == -191:  # end of partition
                remaining.discard(message.partition())
                continue
            raise KafkaException(message.error())
        key = message.key().decode() if message.key() else ""
        value = message.value().decode() if message.value() else ""
        print(key + "\t" + value)


def committed(bootstrap, group, topic, partitions):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    offsets = consumer.committed([TopicPartition(topic, p) for p in range(int(partitions))], timeout=10)
    print(" ".join(str(tp.offset) for tp in offsets))


def describe(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    partitions = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    policy = configs["cleanup.policy"].value if "cleanup.policy" in configs else "?"
    print("partitions=%d cleanup.policy=%s" % (partitions, policy))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"produce": produce, "keys": keys, "committed": committed, "describe": describe}[command](*args)
