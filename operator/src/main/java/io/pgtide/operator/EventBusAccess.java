package io.pgtide.operator;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Who may read the dashboard's event bus ({@code /eventbus}, cluster state and events), decided as for {@code /api}:
 * <ul>
 *   <li>everywhere, a browser's {@code Origin} must be the page's own (the {@code Host} it asked), so another site
 *       open in the same browser cannot read it;</li>
 *   <li>on Kubernetes, a bearer token the API server accepts (the upgrade's {@code Authorization} header, or a
 *       browser's first {@code register} frame, which cannot set headers), and each cluster's state or event goes
 *       only to a reader who may {@code get} PostgresClusters in its namespace (rechecked every minute);</li>
 *   <li>in local mode, a loopback peer asking for a loopback host (no DNS rebinding), with the API token or from the
 *       same-origin dashboard page.</li>
 * </ul>
 * The gate runs on the HTTP request before SockJS sees it; the bridge events filter what each socket receives.
 */
final class EventBusAccess {
  enum Mode { KUBERNETES, LOCAL, OPEN }

  /** What the gate decided: refused (status, reason), or admitted with or without a token still to check. */
  record Admission(int status, String reason, boolean dashboard) {
    static Admission refused(int status, String reason) {
      return new Admission(status, reason, false);
    }

    boolean admitted() {
      return status == 0;
    }
  }

  static final long RECHECK_MS = 60_000;
  private static final String SUBJECT = "eventbus-subject";
  private static final String DASHBOARD = "eventbus-dashboard";
  private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");

  private final Mode mode;
  private final ControlAuthorizer authorizer;
  private final LongSupplier clock;
  private final Map<SockJSSocket, Reader> readers = new ConcurrentHashMap<>();

  EventBusAccess(Mode mode, ControlAuthorizer authorizer, LongSupplier clock) {
    this.mode = mode;
    this.authorizer = authorizer;
    this.clock = clock;
  }

  /**
   * The decision on the request's facts alone. {@code dashboard}: admitted as the same-origin page of local mode
   * (or of an operator without an authorizer), which reads every cluster the operator serves.
   */
  static Admission admit(Mode mode, boolean loopbackPeer, String host, String origin, boolean token) {
    if (origin != null && !sameOrigin(origin, host)) {
      return Admission.refused(403, "origin " + origin + " is not this dashboard's");
    }
    switch (mode) {
      case KUBERNETES -> {
        return new Admission(0, null, false); // the token is checked now or at the first registration
      }
      case LOCAL, OPEN -> {
        if (!loopbackPeer || host == null || !LOOPBACK_HOSTS.contains(hostName(host))) {
          return Admission.refused(403, "the event bus answers loopback clients of a loopback address only");
        }
        if (token) {
          return new Admission(0, null, false);
        }
        if (origin != null || mode == Mode.OPEN) {
          return new Admission(0, null, true);
        }
        return Admission.refused(401, "the API token or the dashboard page is required");
      }
      default -> throw new IllegalStateException(mode.toString());
    }
  }

  private static boolean sameOrigin(String origin, String host) {
    try {
      String authority = URI.create(origin).getRawAuthority();
      return authority != null && host != null && authority.equalsIgnoreCase(host);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String hostName(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(0, end + 1);
    }
    int colon = h.lastIndexOf(':');
    return colon < 0 ? h : h.substring(0, colon);
  }

  /** The HTTP gate in front of SockJS: refuses, or admits with the caller's subject (or the dashboard's) noted. */
  Handler<RoutingContext> gate() {
    return ctx -> {
      SocketAddress peer = ctx.request().remoteAddress();
      boolean loopback = peer != null && peer.hostAddress() != null && (peer.hostAddress().startsWith("127.")
          || "0:0:0:0:0:0:0:1".equals(peer.hostAddress()) || "::1".equals(peer.hostAddress()));
      String token = bearer(ctx.request().getHeader("Authorization"));
      Admission a = admit(mode, loopback, ctx.request().getHeader("Host"), ctx.request().getHeader("Origin"),
          token != null && authorizer != null);
      if (!a.admitted()) {
        deny(ctx, a.status(), a.reason());
      } else if (a.dashboard()) {
        ctx.put(DASHBOARD, true);
        ctx.next();
      } else if (token != null && authorizer != null) {
        // the review answers later: a request left running would be read to its end by then, and SockJS could no
        // longer upgrade it to a WebSocket ("Request has already been read"), as on Kubernetes
        ctx.request().pause();
        authorizer.authenticate(token).onSuccess(subject -> {
          ctx.request().resume();
          ctx.put(SUBJECT, subject);
          ctx.next();
        }).onFailure(e -> {
          ctx.request().resume();
          deny(ctx, e instanceof ControlAuthorizer.Refused ? 401 : 503, e.getMessage());
        });
      } else {
        ctx.next(); // Kubernetes, a browser: it authenticates with its first registration
      }
    };
  }

  /** The bridge's event handler: who registers, and which messages each socket receives. */
  Handler<BridgeEvent> events() {
    return event -> {
      SockJSSocket socket = event.socket();
      BridgeEventType type = event.type();
      switch (type) {
        case SOCKET_CLOSED -> {
          readers.remove(socket);
          event.complete(true);
        }
        case REGISTER -> {
          Reader reader = readers.computeIfAbsent(socket, s -> reader(s, event.getRawMessage()));
          reader.subject().onComplete(ar -> {
            if (ar.failed()) {
              readers.remove(socket, reader); // a later registration may bring a token
            }
            event.complete(ar.succeeded());
          });
        }
        case RECEIVE -> receive(event, socket);
        default -> event.complete(true);
      }
    };
  }

  private void receive(BridgeEvent event, SockJSSocket socket) {
    Reader reader = readers.get(socket);
    JsonObject raw = event.getRawMessage();
    Object body = raw == null ? null : raw.getValue("body");
    String cluster = body instanceof JsonObject json ? json.getString("cluster") : null;
    if (reader == null || cluster == null || cluster.indexOf('/') < 1) {
      event.complete(false); // nothing that names no cluster goes out
      return;
    }
    reader.mayRead(cluster.substring(0, cluster.indexOf('/'))).onComplete(ok -> event.complete(ok.succeeded()
        && ok.result()));
  }

  private Reader reader(SockJSSocket socket, JsonObject registration) {
    RoutingContext ctx = socket.routingContext();
    if (ctx != null && Boolean.TRUE.equals(ctx.get(DASHBOARD))) {
      return new Reader(null);
    }
    ControlAuthorizer.Subject subject = ctx == null ? null : ctx.get(SUBJECT);
    if (subject != null) {
      return new Reader(Future.succeededFuture(subject));
    }
    JsonObject headers = registration == null ? null : registration.getJsonObject("headers");
    String token = headers == null ? null : bearer(headers.getString("Authorization"));
    if (token == null || authorizer == null) {
      return new Reader(Future.failedFuture(new ControlAuthorizer.Refused("no bearer token")));
    }
    return new Reader(authorizer.authenticate(token));
  }

  private static String bearer(String header) {
    return header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && header.length() > 7
        ? header.substring(7).strip() : null;
  }

  private static void deny(RoutingContext ctx, int status, String why) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", why).encode());
  }

  /** One socket's reader: every namespace ({@code subject} null: the dashboard) or those its subject may get. */
  private final class Reader {
    private final Future<ControlAuthorizer.Subject> subject;
    private final Map<String, Grant> grants = new ConcurrentHashMap<>();

    Reader(Future<ControlAuthorizer.Subject> subject) {
      this.subject = subject;
    }

    Future<ControlAuthorizer.Subject> subject() {
      return subject == null ? Future.succeededFuture() : subject;
    }

    Future<Boolean> mayRead(String namespace) {
      if (subject == null) {
        return Future.succeededFuture(true);
      }
      long now = clock.getAsLong();
      Grant grant = grants.compute(namespace, (ns, g) -> g != null && now - g.at() < RECHECK_MS ? g
          : new Grant(subject.compose(s -> authorizer.allowed(s, "get", ns, null)), now));
      return grant.allowed();
    }
  }

  private record Grant(Future<Boolean> allowed, long at) {
  }
}
