"""An ordinary Kafka client (confluent-kafka) for the end-to-end tests: it writes and reads
topics on the test broker the way any third-party producer or tool would.

    client.py produce BOOTSTRAP TOPIC      < one value per line
    client.py keys BOOTSTRAP TOPIC         prints every record's key, then its value
    client.py committed BOOTSTRAP GROUP TOPIC PARTITIONS
"""
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


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


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"produce": produce, "keys": keys, "committed": committed}[command](*args)
