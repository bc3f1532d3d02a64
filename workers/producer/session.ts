/**
 * The simulator's kafkajs producer (idempotent, acks -1, one request in flight so a partition
 * keeps send order), owned so that it can be replaced: after a producer-state error
 * (send_policy.ts) the old producer is disconnected and a new one connected, with a new
 * producer id and sequences from 0.
 */
import {
  type Kafka,
  Partitioners,
  type Producer,
  type ProducerRecord,
  type RecordMetadata,
} from "kafkajs";
import { errorChain, type Logger } from "../shared/mod.ts";

/** What the publisher sends through. */
export interface ProducerSession {
  /** kafkajs' send: the answer of every broker that acknowledged part of the record. */
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  /** Replaces the producer with a new one (new producer id); throws if it cannot connect. */
  recreate(): Promise<void>;
}

/**
 * kafkajs' own retries per send: about 10 s of a broker outage, then the publisher decides
 * (resend, recreate or give up within its budget), so a send never hangs without a decision.
 * kafkajs warns once per producer that limited retries "may invalidate EoS guarantees": the
 * publisher's resend goes through the same producer with the same sequence numbers (kafkajs
 * rolls them back on failure), so the broker still drops a batch it already has.
 */
const SEND_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 } as const;

/** The simulator's producer, replaceable. */
export class KafkaProducerSession implements ProducerSession {
  #kafka: Kafka;
  #logger: Logger;
  #producer: Producer;

  private constructor(kafka: Kafka, logger: Logger) {
    this.#kafka = kafka;
    this.#logger = logger;
    this.#producer = this.#create();
  }

  /** A connected session. */
  static async open(kafka: Kafka, logger: Logger): Promise<KafkaProducerSession> {
    const session = new KafkaProducerSession(kafka, logger);
    await session.#producer.connect();
    return session;
  }

  #create(): Producer {
    return this.#kafka.producer({
      // Java-compatible murmur2 on the key; the publisher sets each message's partition itself
      // (partitions.ts), which this partitioner keeps.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: SEND_RETRY,
    });
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.#producer.send(record);
  }

  async recreate(): Promise<void> {
    const old = this.#producer;
    this.#producer = this.#create();
    await old.disconnect().catch((error) => {
      this.#logger.warn("Disconnecting the old producer failed", { error: errorChain(error) });
    });
    await this.#producer.connect();
  }

  /** Disconnects the producer. */
  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
}

/** The number of partitions of `topic`; a missing topic is named. */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      throw new Error(`Topic ${topic} does not exist: create it (stack job kafka-topics) first`);
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}
