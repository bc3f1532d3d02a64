// The KRaft controller quorum as one JSON line, for `make status` (stack/kafka_status.ts):
// Kafka's own Admin.describeMetadataQuorum (kafkajs has no DescribeQuorum API). Run from source
// with the installed jars: java -cp "$KAFKA_LIBS/*" stack/kafka/QuorumStatus.java HOST:PORT,...
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.QuorumInfo;

public class QuorumStatus {
  static String replicas(List<QuorumInfo.ReplicaState> states) {
    return states.stream()
        .map(s -> "{\"id\":" + s.replicaId() + ",\"log_end_offset\":" + s.logEndOffset()
            + ",\"last_caught_up_ms\":" + s.lastCaughtUpTimestamp().orElse(-1) + "}")
        .collect(Collectors.joining(",", "[", "]"));
  }

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    // A status line, not a daemon: give up quickly when the quorum does not answer.
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "4000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
    try (Admin admin = Admin.create(props)) {
      QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
      System.out.println("{\"leader_id\":" + quorum.leaderId() + ",\"leader_epoch\":"
          + quorum.leaderEpoch() + ",\"high_watermark\":" + quorum.highWatermark()
          + ",\"voters\":" + replicas(quorum.voters()) + ",\"observers\":"
          + replicas(quorum.observers()) + "}");
    }
  }
}
