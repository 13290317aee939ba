package io.pgtide.operator.hub;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.ContractException;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.PeerIdentity;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's end of the star: a TCP event-bus bridge with mutual TLS. Inbound only reports (and replies to
 * commands), outbound only command addresses. A sidecar speaks only for the identity in its certificate: a report
 * or a registration for anyone else is refused. Every refused message is counted; the hub keeps serving the others.
 * Disconnects (TCP reset, or no frame within the ping timeout) become {@code member-disconnected} events.
 *
 * <p>What one certificate can do is bounded:
 * <ul>
 *   <li>a frame whose length header is over {@link #MAX_FRAME_BYTES} closes its connection before a byte of it is
 *       buffered ({@link FrameLengthGuard});</li>
 *   <li>a member has at most one registered connection: a second registration is refused and its connection
 *       closed while the first is open. A sidecar whose old connection died silently gets in again once the hub
 *       notices (no frame within the ping timeout closes it), retrying with its backoff until then;</li>
 *   <li>a member's reports are taken only from its registered connection, and commands go only there, so the
 *       answer to a command (a process probe before fencing) comes from that connection only: the bridge accepts a
 *       reply only on the connection that received the request.</li>
 * </ul>
 */
public final class BridgeHub extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeHub.class);

  private static final io.vertx.core.eventbus.DeliveryOptions LOCAL =
      new io.vertx.core.eventbus.DeliveryOptions().setCodecName(ReportCodec.NAME).setLocalOnly(true);
  private final TlsMaterial tls;
  private final String host;
  private final int port;
  private final long pingTimeoutMs;
  private final java.util.function.Function<String, java.util.Optional<String>> clusterUids;
  /**
   * Largest frame a sidecar may send: a message ({@link ContractCodec#MAX_MESSAGE_BYTES}) and its envelope (type,
   * address, reply address).
   */
  public static final int MAX_FRAME_BYTES = ContractCodec.MAX_MESSAGE_BYTES + 4096;

  /** The member each connection speaks for, bound at its first frame. */
  private final Map<NetSocket, MemberId> identities = new ConcurrentHashMap<>();
  /** The one registered (live) connection of each member. */
  private final Map<MemberId, NetSocket> registered = new ConcurrentHashMap<>();
  private final AtomicLong rejected = new AtomicLong();
  private final Map<String, AtomicLong> rejectedByCode = new ConcurrentHashMap<>();
  private TcpEventBusBridge bridge;
  private int boundPort;

  public BridgeHub(TlsMaterial tls, String host, int port, long pingTimeoutMs) {
    this(tls, host, port, pingTimeoutMs, null);
  }

  /**
   * @param clusterUids the live uid of a cluster by {@code namespace/cluster} (empty when no such cluster is known),
   *                    or null to not bind certificates to uids (local mode: its clusters have none). With it, a
   *                    connection is accepted only from a certificate bound to the live cluster's uid, so one of a
   *                    cluster deleted and created again under the same name is refused.
   */
  public BridgeHub(TlsMaterial tls, String host, int port, long pingTimeoutMs,
                   java.util.function.Function<String, java.util.Optional<String>> clusterUids) {
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.pingTimeoutMs = pingTimeoutMs;
    this.clusterUids = clusterUids;
  }

  @Override
  public Future<?> start() {
    ReportCodec.register(vertx);
    BridgeOptions permissions = new BridgeOptions()
        .addInboundPermitted(new PermittedOptions().setAddress(Addresses.REPORTS))
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(Addresses.COMMAND_REGEX));
    NetServerOptions server = tls.serverOptions().setIdleTimeout((int) pingTimeoutMs)
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    bridge = TcpEventBusBridge.create(new FrameLimitedVertx(vertx, MAX_FRAME_BYTES, this::frameTooLarge), permissions,
        server, this::onEvent);
    return bridge.listen(port, host).onSuccess(b -> {
      boundPort = port;
      LOG.info("bridge hub listening on {}:{} (mutual TLS, ping timeout {} ms)", host, boundPort, pingTimeoutMs);
    });
  }

  @Override
  public Future<?> stop() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }

  public int port() {
    return boundPort;
  }

  public long rejected() {
    return rejected.get();
  }

  public Map<String, AtomicLong> rejectedByCode() {
    return rejectedByCode;
  }

  public int connections() {
    return identities.size();
  }

  private void onEvent(BridgeEvent event) {
    NetSocket socket = event.socket();
    MemberId id = identities.get(socket);
    if (id == null) {
      id = identify(socket, event);
      if (id == null) {
        refuse(event, "no-identity", "peer certificate has no member identity");
        socket.close();
        return;
      }
      String stale = clusterUids == null ? null
          : uidProblem(id, certificateUid(socket), clusterUids.apply(id.namespace() + "/" + id.cluster()));
      if (stale != null) {
        refuse(event, "stale-certificate", stale);
        socket.close();
        return;
      }
      MemberId known = id;
      identities.put(socket, known);
      socket.closeHandler(v -> {
        identities.remove(socket);
        // only the member's registered connection speaks for its presence: a refused duplicate's end says nothing
        if (registered.remove(known, socket)) {
          vertx.eventBus().publish(Addresses.MEMBER_EVENTS, new JsonObject().put("event", "member-disconnected")
              .put("member", known.toString()).put("at", System.currentTimeMillis()));
        }
      });
    }
    BridgeEventType type = event.type();
    JsonObject raw = event.getRawMessage();
    String address = raw == null ? null : raw.getString("address");
    switch (type) {
      case SOCKET_PING, REGISTERED, UNREGISTER -> event.complete(true);
      case REGISTER -> register(event, id, address);
      case PUBLISH, SEND -> {
        if (Addresses.REPORTS.equals(address)) {
          if (registered.get(id) != socket) {
            refuse(event, "not-registered", id + " sent a report on a connection that is not its registered one");
            return;
          }
          checkReport(event, id, raw);
        } else {
          event.complete(true); // replies to commands; the bridge admits only pending reply addresses
        }
      }
      default -> refuse(event, "not-allowed", type + " is not allowed");
    }
  }

  private void register(BridgeEvent event, MemberId id, String address) {
    NetSocket socket = event.socket();
    if (!Addresses.command(id).equals(address)) {
      refuse(event, "foreign-address", id + " may not register for " + address);
      return;
    }
    NetSocket holder = registered.putIfAbsent(id, socket);
    if (holder == socket) {
      refuse(event, "already-registered", id + " registered twice on one connection");
      return;
    }
    if (holder != null) {
      // the first connection keeps the member: a second one (a stolen certificate, or a reconnect before the hub
      // noticed the old connection died) could otherwise take its commands and speak in its name
      refuse(event, "duplicate-member", id + " already has a live connection from " + holder.remoteAddress());
      socket.close();
      return;
    }
    vertx.eventBus().publish(Addresses.MEMBER_EVENTS, new JsonObject().put("event", "member-connected")
        .put("member", id.toString()).put("at", System.currentTimeMillis()));
    event.complete(true);
  }

  private void frameTooLarge(NetSocket socket, long declared) {
    count("frame-too-large");
    LOG.warn("closed the connection of {} ({}): a frame header declared {} bytes, over the limit of {}",
        identities.get(socket), socket.remoteAddress(), declared, MAX_FRAME_BYTES);
  }

  private void checkReport(BridgeEvent event, MemberId id, JsonObject raw) {
    Object body = raw.getValue("body");
    if (!(body instanceof JsonObject json)) {
      refuse(event, "malformed", "report body is not a JSON object");
      return;
    }
    try {
      InstanceReport report = ContractCodec.decodeReport(json);
      if (!report.id().equals(id)) {
        refuse(event, "wrong-identity", id + " sent a report for " + report.id());
        return;
      }
      // decoded once, here: the state gets the record itself (local delivery, no copy, no second parse)
      vertx.eventBus().publish(Addresses.REPORTS_DECODED, report, LOCAL);
      event.complete(true);
    } catch (ContractException e) {
      refuse(event, e.code(), e.getMessage());
    }
  }

  private void refuse(BridgeEvent event, String code, String message) {
    count(code);
    LOG.warn("refused a message from {}: {}", event.socket().remoteAddress(), message);
    event.complete(false);
  }

  private void count(String code) {
    rejected.incrementAndGet();
    rejectedByCode.computeIfAbsent(code, c -> new AtomicLong()).incrementAndGet();
  }

  private static java.util.Optional<String> certificateUid(NetSocket socket) {
    try {
      return PeerIdentity.clusterUid(socket.peerCertificates());
    } catch (SSLPeerUnverifiedException e) {
      return java.util.Optional.empty();
    }
  }

  /**
   * Why a certificate bound to {@code certUid} may not speak for {@code id}'s cluster, whose live object has
   * {@code liveUid}, or null when it may. Pure.
   */
  static String uidProblem(MemberId id, java.util.Optional<String> certUid, java.util.Optional<String> liveUid) {
    String cluster = id.namespace() + "/" + id.cluster();
    if (liveUid.isEmpty()) {
      return "no PostgresCluster " + cluster + " is known (yet) to bind " + id + "'s certificate to";
    }
    if (certUid.isEmpty()) {
      return id + "'s certificate is bound to no cluster uid (issued before certificates carried it; the operator "
          + "issues it again)";
    }
    if (!certUid.get().equals(liveUid.get())) {
      return id + "'s certificate is bound to uid " + certUid.get() + ", but " + cluster + " is uid " + liveUid.get()
          + " (an earlier cluster of that name)";
    }
    return null;
  }

  /**
   * The member a connection speaks for: the CN {@code namespace/cluster/member} of its certificate. On Kubernetes
   * one certificate serves every pod of a StatefulSet, with CN {@code namespace/cluster/*}: it may speak for any
   * member of that cluster only, and the connection is bound to the member of its first frame (its registration).
   */
  private static MemberId identify(NetSocket socket, BridgeEvent event) {
    String cn;
    try {
      cn = PeerIdentity.commonName(socket.peerCertificates()).orElse(null);
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (cn == null) {
      return null;
    }
    try {
      if (cn.endsWith("/*")) {
        JsonObject raw = event.getRawMessage();
        String address = raw == null ? null : raw.getString("address");
        String prefix = Addresses.COMMAND_PREFIX + cn.substring(0, cn.length() - 2).replace('/', '.') + ".";
        if (event.type() != BridgeEventType.REGISTER || address == null || !address.startsWith(prefix)) {
          return null;
        }
        String[] nc = cn.split("/");
        return new MemberId(nc[0], nc[1], address.substring(prefix.length()));
      }
      return MemberId.parse(cn);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
