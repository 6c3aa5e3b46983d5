/*
 * A test instrument, not part of the collection: a stand-in for a running WSO2 API-M 4.x gateway's HTTPS sender.
 * It reproduces how the gateway reloads its sender SSL profiles, as ../../docs/standin.md and the team's notes on
 * WSO2's sources describe it (Synapse's DynamicProfileReloader, ClientConnFactory and ClientSSLSetupHandler, and
 * carbon-apimgt's start-up copy of the truststore). It is written from those notes; no WSO2 code is in it.
 *
 * Run it with the API-M home as the working directory (user.dir, as a gateway has):
 *   cd <API-M_HOME> && java -cp <classes> GatewayStandin <state-dir>
 * It writes <state-dir>/control.port (a port on 127.0.0.1) and logs to stdout. Control channel (HTTP, loopback):
 *   GET /state                              -> pid, reload counts, the last reload's result, the live profiles
 *   GET /call?url=https://host:port/path    -> {ok, status, error, profile}: one request through the live profiles
 *   GET /check-host?cert=<file>&host=<h>[&verifier=<v>] -> {ok, error}: the host name rules alone, no network
 * The HTTPS listener (API consumers' side, PassThroughHttpMultiSSLListener with listenerprofiles.xml's one profile,
 * when that file exists): a TLS server on 127.0.0.1 (port in <state-dir>/listener.port and in /state) that checks
 * client certificates against the profile's TrustStore (SSLVerifyClient optional: want, require: need) and answers
 * 200 with the client's subject, 401 without a client certificate. It reloads the profile when listenerprofiles.xml's
 * mtime advances, every [transport.passthru_https.listener] ssl_profile_interval ms (default 600000; all or nothing).
 * System properties: standin.testOnlyIntervalMs (TEST ONLY: replaces the interval and bypasses WSO2's 60 s floor);
 * standin.testOnlyListenerIntervalMs (TEST ONLY: replaces the listener's interval);
 * migrate (present: no start-up copy of the truststore, as API-M 4.2+ started with -Dmigrate).
 */

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Timer;
import java.util.TimerTask;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public final class GatewayStandin {

    static final long MIN_INTERVAL_MS = 60000L; // Synapse's floor for fileReadInterval
    static final String DEFAULT_SSLPROFILES = "repository/resources/security/sslprofiles.xml";
    static final String SECURITY = "repository/resources/security";
    static final String TEMP_COPY = "client-truststore-temp.jks";

    // --- configuration, read once at start-up like a gateway reads deployment.toml ---------------------------
    final Path home = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
    final Map<String, String> toml;
    final String filePath;
    final File sslprofiles;
    final long configuredIntervalMs;
    final long intervalMs;
    final boolean testOnlyInterval;
    final String verifier;
    final long startedAt = System.currentTimeMillis();

    final File listenerprofiles;
    final long listenerIntervalMs;

    // --- live state, guarded by this ----------------------------------------------------------------------------
    SSLContext listenerContext;
    String listenerVerifyClient = "optional";
    long listenerBaseline;
    int listenerChecks;
    int listenerReloads;
    int listenerFailedReloads;
    int listenerPort = -1;
    long baseline;
    Factory live;
    int checks;
    int reloads;
    int failedReloads;
    Map<String, Object> lastReload;

    GatewayStandin(Map<String, String> toml) {
        this.toml = toml;
        this.filePath = value("transport.passthru_https.sender.ssl_profile.file_path", DEFAULT_SSLPROFILES);
        // Synapse reads the file as user.dir + "/" + filePath
        this.sslprofiles = new File(home.toString() + "/" + filePath);
        this.configuredIntervalMs = Long.parseLong(value("transport.passthru_https.sender.ssl_profile.interval", "600000"));
        String override = System.getProperty("standin.testOnlyIntervalMs");
        this.testOnlyInterval = override != null;
        this.intervalMs = testOnlyInterval ? Long.parseLong(override) : Math.max(configuredIntervalMs, MIN_INTERVAL_MS);
        this.verifier = Hostnames.mode(value("transport.passthru_https.sender.parameters.HostnameVerifier", "DefaultAndLocalhost"));
        this.listenerprofiles = home.resolve(SECURITY).resolve("listenerprofiles.xml").toFile(); // hard-coded in axis2.xml.j2
        String listenerOverride = System.getProperty("standin.testOnlyListenerIntervalMs");
        this.listenerIntervalMs = listenerOverride != null ? Long.parseLong(listenerOverride)
                : Long.parseLong(value("transport.passthru_https.listener.ssl_profile_interval", "600000"));
    }

    String value(String key, String fallback) {
        return Toml.resolve(toml, key, fallback);
    }

    // === logging, in the shape of WSO2's carbon log =============================================================

    static synchronized void log(String level, String source, String message) {
        String when = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss,SSS").format(new Date());
        System.out.println("[" + when + "] " + (level.length() == 4 ? " " : "") + level + " {" + source + "} - " + message);
        System.out.flush();
    }

    // === the SSL contexts: one per profile, plus axis2's default ==================================================

    /** What the sender uses: server key -> context, and axis2's default context (the original truststore). */
    static final class Factory {
        final Map<String, Profile> byServer = new LinkedHashMap<>();
        SSLContext axis2Default;
        int profiles;

        Selected select(String host, int port) {
            Profile exact = byServer.get(host + ":" + port); // exact and case-sensitive, as ClientConnFactory does
            if (exact != null) {
                return new Selected(exact.context, exact.servers);
            }
            Profile any = byServer.get("*");
            if (any != null) {
                return new Selected(any.context, "*");
            }
            return new Selected(axis2Default, "axis2 default");
        }
    }

    static final class Profile {
        final String servers;
        final SSLContext context;

        Profile(String servers, SSLContext context) {
            this.servers = servers;
            this.context = context;
        }
    }

    static final class Selected {
        final SSLContext context;
        final String profile;

        Selected(SSLContext context, String profile) {
            this.context = context;
            this.profile = profile;
        }
    }

    /** A store as a configuration names it. The password never leaves this object. */
    static final class StoreSpec {
        final String location;
        final String type;
        final char[] password;
        final char[] keyPassword;

        StoreSpec(String location, String type, String password, String keyPassword) {
            this.location = location;
            this.type = type == null || type.isEmpty() ? "JKS" : type;
            this.password = password == null ? null : password.toCharArray();
            this.keyPassword = keyPassword == null ? this.password : keyPassword.toCharArray();
        }

        KeyStore load() throws Exception {
            KeyStore store = KeyStore.getInstance(type);
            try (InputStream in = new FileInputStream(location)) { // relative to user.dir, as the gateway resolves it
                store.load(in, password);
            }
            return store;
        }
    }

    static final class BadStore extends Exception {
        private static final long serialVersionUID = 1L;

        BadStore(String what, Exception cause) {
            super(what + ": " + cause, cause);
        }
    }

    static SSLContext context(StoreSpec keystore, StoreSpec truststore, boolean novalidatecert) throws BadStore {
        KeyManager[] keyManagers = null;
        TrustManager[] trustManagers = null;
        if (keystore != null) {
            try {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keystore.load(), keystore.keyPassword);
                keyManagers = kmf.getKeyManagers();
            } catch (Exception e) {
                throw new BadStore("KeyStore " + keystore.location, e);
            }
        }
        if (truststore != null) {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(truststore.load());
                trustManagers = tmf.getTrustManagers();
            } catch (Exception e) {
                throw new BadStore("TrustStore " + truststore.location, e);
            }
        } else if (novalidatecert) {
            trustManagers = new TrustManager[] {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String authType) { }

                public void checkServerTrusted(X509Certificate[] chain, String authType) { }

                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }};
        }
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers, trustManagers, null);
            return ctx;
        } catch (Exception e) {
            throw new BadStore("SSLContext", e);
        }
    }

    SSLContext axis2DefaultContext() throws BadStore {
        StoreSpec keystore = new StoreSpec(SECURITY + "/" + value("keystore.tls.file_name", "wso2carbon.jks"),
                value("keystore.tls.type", "JKS"), value("keystore.tls.password", "wso2carbon"),
                value("keystore.tls.key_password", "wso2carbon"));
        StoreSpec truststore = new StoreSpec(SECURITY + "/" + value("truststore.file_name", "client-truststore.jks"),
                value("truststore.type", "JKS"), value("truststore.password", "wso2carbon"), null);
        return context(keystore, truststore, false);
    }

    // === sslprofiles.xml ===========================================================================================

    static final class ProfileSpec {
        String servers;
        StoreSpec keystore;
        StoreSpec truststore;
        boolean novalidatecert;
        String verifyClient; // the listener's SSLVerifyClient
    }

    static String child(Element parent, String name) {
        NodeList list = parent.getElementsByTagName(name);
        return list.getLength() == 0 ? null : list.item(0).getTextContent().trim();
    }

    static StoreSpec store(Element profile, String name, boolean key) {
        NodeList list = profile.getElementsByTagName(name);
        if (list.getLength() == 0) {
            return null;
        }
        Element e = (Element) list.item(0);
        return new StoreSpec(child(e, "Location"), child(e, "Type"), child(e, "Password"), key ? child(e, "KeyPassword") : null);
    }

    static List<ProfileSpec> parseProfiles(File file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setExpandEntityReferences(false);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = factory.newDocumentBuilder().parse(file);
        List<ProfileSpec> out = new ArrayList<>();
        NodeList nodes = doc.getDocumentElement().getElementsByTagName("profile");
        for (int i = 0; i < nodes.getLength(); i++) {
            Element element = (Element) nodes.item(i);
            ProfileSpec spec = new ProfileSpec();
            spec.servers = child(element, "servers");
            spec.keystore = store(element, "KeyStore", true);
            spec.truststore = store(element, "TrustStore", false);
            spec.novalidatecert = "true".equals(element.getAttribute("novalidatecert"));
            spec.verifyClient = child(element, "SSLVerifyClient");
            out.add(spec);
        }
        return out;
    }

    // === the reload (PassThroughHttpSender.reloadDynamicSSLConfig): all or nothing ==================================

    /** Builds every context from disk. Returns the new factory, or null after logging why the reload is refused. */
    Factory build() {
        List<ProfileSpec> specs;
        try {
            specs = parseProfiles(sslprofiles);
        } catch (Exception e) {
            log("ERROR", "ClientConnFactoryBuilder", "Error while loading customSSLProfiles. Could not load customSSLProfiles from file path: "
                    + sslprofiles + " (" + e.getClass().getSimpleName() + ")");
            log("WARN", "DynamicProfileReloader", "Error loading last modified time of the file. Updates will not be loaded from " + sslprofiles);
            return null;
        }
        Factory factory = new Factory();
        try {
            factory.axis2Default = axis2DefaultContext();
        } catch (BadStore e) {
            log("ERROR", "PassThroughHttpSender", "Error while building the default SSL context (" + e.getMessage()
                    + "). New Configurations will not be applied");
            return null;
        }
        log("INFO", "ClientConnFactoryBuilder", "customSSLProfiles configuration is loaded from path: " + sslprofiles);
        for (ProfileSpec spec : specs) {
            if (spec.servers == null || spec.servers.isEmpty()) {
                log("ERROR", "PassThroughHttpSender", "Error while building a custom SSL profile: a profile has no <servers>. "
                        + "New Configurations will not be applied");
                return null;
            }
            SSLContext ctx;
            try {
                ctx = context(spec.keystore, spec.truststore, spec.novalidatecert && spec.truststore == null);
            } catch (BadStore e) {
                log("ERROR", "ClientConnFactoryBuilder", "HTTPS Error opening/loading Keystore... (profile '" + spec.servers + "', "
                        + e.getMessage() + ")");
                log("ERROR", "PassThroughHttpSender", "Ignoring reload SSL config since there is an invalid configuration.");
                return null;
            }
            factory.profiles++;
            for (String server : spec.servers.split(",")) {
                String key = server.trim();
                if (key.isEmpty()) {
                    continue;
                }
                if (factory.byServer.containsKey(key)) { // up to API-M 4.5 the first profile wins
                    log("WARN", "ClientConnFactoryBuilder", "Server " + key + " is listed in more than one profile; the first one is used");
                    continue;
                }
                factory.byServer.put(key, new Profile(spec.servers, ctx));
            }
        }
        log("INFO", "ClientConnFactoryBuilder", "HTTPS Custom SSL profiles initialized for " + factory.byServer.size() + " mappings");
        return factory;
    }

    synchronized void reload(String trigger, long mtime) {
        log("INFO", "PassThroughHttpSender", "PassThroughHttpSender reloading SSL Config..");
        Factory next = build();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ok", next != null);
        result.put("at", System.currentTimeMillis());
        result.put("mtime", mtime);
        result.put("trigger", trigger);
        if (next == null) {
            failedReloads++;
        } else {
            live = next; // affects new connections only
            reloads++;
            log("INFO", "PassThroughHttpSender", "Pass-through HTTPS Sender updated with Dynamic Configuration Updates ...");
        }
        lastReload = result;
    }

    /** The mtime check of DynamicProfileReloader: strictly newer than the baseline, which then moves, success or not. */
    synchronized void check(String trigger) {
        checks++;
        long mtime = sslprofiles.lastModified(); // 0 when missing: never newer
        if (mtime > baseline) {
            baseline = mtime;
            reload(trigger, mtime);
        }
    }

    // === the 4.x start-up copy (CertificateMgtUtils.backupOriginalTrustStore) ========================================

    static final Pattern PROFILE = Pattern.compile("(?s)<profile\\b[^>]*>.*?</profile>");
    static final Pattern SERVERS_ANY = Pattern.compile("<servers>\\s*\\*\\s*</servers>");
    static final Pattern TRUST_LOCATION = Pattern.compile("(?s)(<TrustStore>.*?<Location>)(.*?)(</Location>)");

    void startupCopy() throws IOException {
        Path persistent = home.resolve(SECURITY).resolve(value("truststore.file_name", "client-truststore.jks"));
        Path temp = persistent.getParent().resolve(TEMP_COPY);
        Files.deleteIfExists(temp);
        Files.copy(persistent, temp, StandardCopyOption.COPY_ATTRIBUTES);
        temp.toFile().setLastModified(System.currentTimeMillis());
        String xml = new String(Files.readAllBytes(sslprofiles.toPath()), StandardCharsets.ISO_8859_1);
        Matcher profiles = PROFILE.matcher(xml);
        int start = -1;
        int end = -1;
        while (profiles.find()) {
            if (start < 0 || SERVERS_ANY.matcher(profiles.group()).find()) {
                start = profiles.start();
                end = profiles.end();
                if (SERVERS_ANY.matcher(profiles.group()).find()) {
                    break;
                }
            }
        }
        if (start >= 0) {
            String profile = xml.substring(start, end);
            Matcher location = TRUST_LOCATION.matcher(profile);
            if (location.find()) {
                String rewritten = profile.substring(0, location.start(2)) + temp + profile.substring(location.end(2));
                Path tmp = sslprofiles.toPath().resolveSibling(".sslprofiles.xml.standin");
                Files.write(tmp, (xml.substring(0, start) + rewritten + xml.substring(end)).getBytes(StandardCharsets.ISO_8859_1));
                Files.move(tmp, sslprofiles.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        }
        log("INFO", "CertificateMgtUtils", "Copied " + persistent + " to " + temp + " and pointed the sender's default profile at it");
    }

    // === the HTTPS listener (ServerConnFactoryBuilder with listenerprofiles.xml): all or nothing ========================

    /** Builds the listener's context from listenerprofiles.xml's one profile; false (the old one kept) when it cannot. */
    synchronized boolean buildListener(String trigger) {
        try {
            List<ProfileSpec> specs = parseProfiles(listenerprofiles);
            if (specs.isEmpty()) {
                throw new BadStore("no <profile> in " + listenerprofiles, new IllegalStateException("empty"));
            }
            ProfileSpec spec = specs.get(0);
            listenerContext = context(spec.keystore, spec.truststore, false);
            listenerVerifyClient = spec.verifyClient == null ? "optional" : spec.verifyClient.trim().toLowerCase(Locale.ENGLISH);
            log("INFO", "ServerConnFactoryBuilder", "HTTPS listener SSL profile loaded from " + listenerprofiles + " (" + trigger + ")");
            return true;
        } catch (Exception e) {
            log("ERROR", "PassThroughHttpMultiSSLListener", "Error while reloading the listener SSL profile (" + e.getMessage()
                    + "). New Configurations will not be applied");
            return false;
        }
    }

    synchronized void checkListener(String trigger) {
        listenerChecks++;
        long mtime = listenerprofiles.lastModified();
        if (mtime > listenerBaseline) {
            listenerBaseline = mtime;
            if (buildListener(trigger)) {
                listenerReloads++;
            } else {
                listenerFailedReloads++;
            }
        }
    }

    void startListener(Path stateDir) throws Exception {
        listenerBaseline = System.currentTimeMillis();
        if (!buildListener("start-up")) {
            log("ERROR", "GatewayStandin", "The HTTPS listener cannot start: its SSL profile cannot be loaded");
            return;
        }
        java.net.ServerSocket server = new java.net.ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        listenerPort = server.getLocalPort();
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket raw = server.accept();
                    Thread worker = new Thread(() -> serveListener(raw), "listener-worker");
                    worker.setDaemon(true);
                    worker.start();
                } catch (IOException e) {
                    log("ERROR", "PassThroughHttpMultiSSLListener", "accept failed: " + e);
                }
            }
        }, "listener");
        acceptor.setDaemon(true);
        acceptor.start();
        Timer timer = new Timer("ListenerProfileReloader", true);
        timer.scheduleAtFixedRate(new TimerTask() {
            public void run() {
                checkListener("timer");
            }
        }, listenerIntervalMs, listenerIntervalMs);
        Path port = stateDir.resolve("listener.port");
        Path tmp = stateDir.resolve("listener.port.tmp");
        Files.write(tmp, Integer.toString(listenerPort).getBytes(StandardCharsets.US_ASCII));
        Files.move(tmp, port, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log("INFO", "PassThroughHttpMultiSSLListener", "HTTPS listener on 127.0.0.1:" + listenerPort + ", SSLVerifyClient "
                + listenerVerifyClient + ", profile checked every " + listenerIntervalMs + " ms");
    }

    void serveListener(Socket raw) {
        SSLContext ctx;
        String verify;
        synchronized (this) {
            ctx = listenerContext; // new connections only
            verify = listenerVerifyClient;
        }
        try (Socket plain = raw) {
            plain.setSoTimeout(10000);
            SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
            tls.setUseClientMode(false);
            if ("require".equals(verify)) {
                tls.setNeedClientAuth(true);
            } else if (!"none".equals(verify)) {
                tls.setWantClientAuth(true);
            }
            tls.startHandshake();
            InputStream in = tls.getInputStream();
            int c;
            int newlines = 0;
            while ((c = in.read()) >= 0) { // the request head, up to its blank line
                newlines = c == '\n' ? newlines + 1 : (c == '\r' ? newlines : 0);
                if (newlines == 2) {
                    break;
                }
            }
            String subject = null;
            try {
                subject = ((X509Certificate) tls.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                subject = null;
            }
            String body = subject == null ? "no client certificate" : subject;
            String status = subject == null ? "401 Unauthorized" : "200 OK";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream os = tls.getOutputStream();
            os.write(("HTTP/1.1 " + status + "\r\nContent-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            os.write(bytes);
            os.flush();
        } catch (Exception e) {
            log("WARN", "SSLServerHandler", "listener handshake or request failed: " + e);
        }
    }

    // === calls through the live sender ================================================================================

    static boolean isIp(String host) {
        return Hostnames.isIPv4(host) || host.contains(":");
    }

    Map<String, Object> call(String url) {
        Map<String, Object> out = new LinkedHashMap<>();
        Factory factory;
        synchronized (this) {
            factory = live;
        }
        try {
            URI uri = new URI(url);
            String host = uri.getHost();
            int port = uri.getPort() < 0 ? 443 : uri.getPort();
            Selected selected = factory.select(host, port);
            out.put("profile", selected.profile);
            try (Socket raw = new Socket()) {
                raw.connect(new InetSocketAddress(host, port), 10000);
                raw.setSoTimeout(10000);
                SSLSocket tls = (SSLSocket) selected.context.getSocketFactory().createSocket(raw, host, port, true);
                SSLParameters params = tls.getSSLParameters();
                params.setEndpointIdentificationAlgorithm(null); // the sender's own HostnameVerifier decides, after the handshake
                if (!isIp(host)) {
                    params.setServerNames(Collections.singletonList(new SNIHostName(host)));
                }
                tls.setSSLParameters(params);
                tls.startHandshake();
                X509Certificate leaf = (X509Certificate) tls.getSession().getPeerCertificates()[0];
                String mismatch = Hostnames.verify(verifier, host, leaf);
                if (mismatch != null) {
                    out.put("ok", false);
                    out.put("status", null);
                    out.put("error", "Host name verification failed for host : " + host + " (" + mismatch + ")");
                    return out;
                }
                String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
                OutputStream os = tls.getOutputStream();
                os.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                os.flush();
                InputStream in = tls.getInputStream();
                StringBuilder line = new StringBuilder();
                int c;
                while ((c = in.read()) >= 0 && c != '\n') {
                    line.append((char) c);
                }
                String[] parts = line.toString().trim().split(" ");
                int status = parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
                out.put("ok", status >= 200 && status < 400);
                out.put("status", status);
                out.put("error", null);
            }
        } catch (Exception e) {
            out.put("ok", false);
            out.put("status", null);
            out.put("error", e.toString());
        }
        return out;
    }

    synchronized Map<String, Object> state() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pid", ProcessHandle.current().pid());
        out.put("startedAt", startedAt);
        out.put("sslprofiles", sslprofiles.toString());
        out.put("intervalMs", intervalMs);
        out.put("configuredIntervalMs", configuredIntervalMs);
        out.put("testOnlyInterval", testOnlyInterval);
        out.put("hostnameVerifier", verifier);
        out.put("baseline", baseline);
        out.put("checks", checks);
        out.put("reloads", reloads);
        out.put("failedReloads", failedReloads);
        out.put("lastReload", lastReload);
        out.put("servers", new ArrayList<>(live.byServer.keySet()));
        Map<String, Object> listener = new LinkedHashMap<>();
        listener.put("port", listenerPort);
        listener.put("intervalMs", listenerIntervalMs);
        listener.put("verifyClient", listenerVerifyClient);
        listener.put("checks", listenerChecks);
        listener.put("reloads", listenerReloads);
        listener.put("failedReloads", listenerFailedReloads);
        out.put("listener", listener);
        return out;
    }

    // === start-up ======================================================================================================

    void start(Path stateDir) throws Exception {
        log("INFO", "GatewayStandin", "Gateway stand-in (a test instrument, not WSO2) starting in " + home);
        // The HTTPS sender starts first, with sslprofiles.xml as it is; its baseline is the start time.
        baseline = startedAt;
        live = build();
        if (live == null) {
            log("ERROR", "GatewayStandin", "The HTTPS sender cannot start: its SSL profiles cannot be loaded");
            System.exit(2);
        }
        reloads = 0;
        if (testOnlyInterval) {
            log("WARN", "GatewayStandin", "TEST ONLY: sslprofiles.xml is checked every " + intervalMs + " ms (deployment.toml: "
                    + configuredIntervalMs + " ms; WSO2 uses max(interval, 60000))");
        }
        if (System.getProperty("migrate") != null) { // as -Dmigrate skips the copy on API-M 4.2+
            log("INFO", "GatewayStandin", "-Dmigrate: the start-up copy of the truststore is skipped");
        } else {
            Thread.sleep(20); // the start-up copy comes later than the sender's start, so its rewrite is newer than the baseline
            startupCopy();
        }
        // API deployment at start-up runs one mtime-gated check (InMemoryAPIDeployer); the timer's first check is one
        // interval after the sender started.
        check("start-up");
        Timer timer = new Timer("DynamicProfileReloader", true);
        timer.scheduleAtFixedRate(new TimerTask() {
            public void run() {
                try {
                    check("timer");
                } catch (RuntimeException e) {
                    log("ERROR", "DynamicProfileReloader", "check failed: " + e);
                }
            }
        }, Math.max(1, intervalMs - (System.currentTimeMillis() - startedAt)), intervalMs);

        if (listenerprofiles.exists()) {
            startListener(stateDir);
        }

        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "control");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/state", ex -> reply(ex, state()));
        server.createContext("/call", ex -> reply(ex, call(query(ex).get("url"))));
        server.createContext("/check-host", ex -> {
            Map<String, String> q = query(ex);
            Map<String, Object> out = new LinkedHashMap<>();
            try {
                X509Certificate cert = readCertificate(Paths.get(q.get("cert")));
                String mode = q.containsKey("verifier") ? Hostnames.mode(q.get("verifier")) : verifier;
                String mismatch = Hostnames.verify(mode, q.get("host"), cert);
                out.put("ok", mismatch == null);
                out.put("verifier", mode);
                out.put("error", mismatch);
            } catch (Exception e) {
                out.put("ok", false);
                out.put("error", "cannot check: " + e);
            }
            reply(ex, out);
        });
        server.start();
        Path port = stateDir.resolve("control.port");
        Path tmp = stateDir.resolve("control.port.tmp");
        Files.write(tmp, Integer.toString(server.getAddress().getPort()).getBytes(StandardCharsets.US_ASCII));
        Files.move(tmp, port, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log("INFO", "GatewayStandin", "Ready: pid " + ProcessHandle.current().pid() + ", control port " + server.getAddress().getPort()
                + ", HostnameVerifier " + verifier);
    }

    static X509Certificate readCertificate(Path path) throws Exception {
        byte[] data = Files.readAllBytes(path);
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(data));
    }

    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new HashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    static void reply(HttpExchange ex, Map<String, Object> body) throws IOException {
        byte[] data = Json.write(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, data.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(data);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: (cd <API-M_HOME> && java GatewayStandin <state-dir>)");
            System.exit(64);
        }
        Path conf = Paths.get(System.getProperty("user.dir"), "repository", "conf", "deployment.toml");
        GatewayStandin standin = new GatewayStandin(Toml.read(conf));
        standin.start(Paths.get(args[0]).toAbsolutePath());
        Thread.currentThread().join(); // the timer and the control server are daemons: wait for SIGTERM
    }

    // === deployment.toml: the few keys the sender needs ====================================================================

    /**
     * A minimal TOML reader, enough for the keys this stand-in needs: [table] headers, key = value lines with bare,
     * quoted or dotted keys, and single-line string, integer and boolean values. [[arrays of tables]] and their keys are
     * skipped (custom profiles reach the sender through sslprofiles.xml), multi-line strings are not supported, and
     * $ref{key} is followed; $secret{}, $env{} and $sys{} are not resolved.
     */
    static final class Toml {
        static Map<String, String> read(Path path) throws IOException {
            Map<String, String> out = new HashMap<>();
            String table = "";
            for (String rawLine : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                String line = stripComment(rawLine).trim();
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("[[")) {
                    table = null; // an array of tables: not read
                    continue;
                }
                if (line.startsWith("[")) {
                    table = unquoteKey(line.substring(1, line.lastIndexOf(']')).trim());
                    continue;
                }
                int eq = indexOutsideQuotes(line, '=');
                if (eq < 0 || table == null) {
                    continue;
                }
                String key = unquoteKey(line.substring(0, eq).trim());
                out.put(table.isEmpty() ? key : table + "." + key, unquoteValue(line.substring(eq + 1).trim()));
            }
            return out;
        }

        static String resolve(Map<String, String> toml, String key, String fallback) {
            String value = toml.get(key);
            if (value == null && key.startsWith("keystore.tls.")) {
                value = toml.getOrDefault("keystore.primary." + key.substring("keystore.tls.".length()), null);
            }
            for (int depth = 0; value != null && depth < 10 && value.startsWith("$ref{") && value.endsWith("}"); depth++) {
                value = toml.get(value.substring(5, value.length() - 1));
            }
            return value == null ? fallback : value;
        }

        static String stripComment(String line) {
            int hash = indexOutsideQuotes(line, '#');
            return hash < 0 ? line : line.substring(0, hash);
        }

        static int indexOutsideQuotes(String line, char wanted) {
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote != 0) {
                    if (c == '\\' && quote == '"') {
                        i++;
                    } else if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == wanted) {
                    return i;
                }
            }
            return -1;
        }

        static String unquoteKey(String key) {
            StringBuilder out = new StringBuilder();
            for (String part : key.split("\\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")) {
                part = part.trim();
                if (part.length() >= 2 && (part.startsWith("\"") || part.startsWith("'"))) {
                    part = part.substring(1, part.length() - 1);
                }
                out.append(out.length() == 0 ? "" : ".").append(part);
            }
            return out.toString();
        }

        static String unquoteValue(String value) {
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                return value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
                return value.substring(1, value.length() - 1);
            }
            return value.replace("_", ""); // integers may use _ separators
        }
    }

    // === the sender's HostnameVerifier ============================================================================================

    /**
     * The rules of Synapse's ClientSSLSetupHandler verifiers (httpclient 4.x AbstractVerifier semantics), written from the
     * team's notes: the leaf only; an IP host is checked against the IP SANs, any other host against the DNS SANs; the
     * first CN (in RFC 2253 order) only when the certificate has no SAN of that type; case-insensitive; a wildcard counts
     * only at the end of the first label of a name with at least three labels; Strict wants the same number of labels and
     * refuses *.co.uk-style wildcards; DefaultAndLocalhost lets localhost names pass; AllowAll checks nothing.
     * The JDK does the certificate parsing: X509Certificate.getSubjectAlternativeNames (SAN types and their text form),
     * X500Principal.getName(RFC2253) with LdapName (the CN), and InetAddress for IPv6 literals (no name lookups).
     */
    static final class Hostnames {
        static final String[] LOCALHOSTS = {"::1", "127.0.0.1", "localhost", "localhost.localdomain"};
        static final String[] BAD_COUNTRY_2LDS = {"ac", "co", "com", "ed", "edu", "go", "gouv", "gov", "info", "lg", "ne", "net", "or", "org"};

        static String mode(String configured) {
            String v = configured == null ? "" : configured.trim();
            for (String name : new String[] {"Strict", "AllowAll", "DefaultAndLocalhost"}) {
                if (name.equalsIgnoreCase(v)) {
                    return name;
                }
            }
            return "Default"; // anything else: Synapse's DEFAULT verifier
        }

        static boolean isIPv4(String host) {
            return host.matches("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
        }

        static boolean isIPv6(String host) {
            return host.contains(":") && host.matches("[0-9A-Fa-f:.]+");
        }

        static String normaliseIPv6(String address) {
            try {
                return InetAddress.getByName(address).getHostAddress(); // a literal: no lookup
            } catch (Exception e) {
                return address;
            }
        }

        static boolean isLocalhost(String host) {
            String h = host == null ? "" : host.trim().toLowerCase(Locale.ROOT);
            if (h.startsWith("::1") && h.lastIndexOf('%') >= 0) {
                h = h.substring(0, h.lastIndexOf('%'));
            }
            for (String name : LOCALHOSTS) {
                if (name.equals(h)) {
                    return true;
                }
            }
            return false;
        }

        /** null when host passes mode for cert, else the reason. */
        static String verify(String mode, String host, X509Certificate cert) throws Exception {
            if ("AllowAll".equals(mode) || ("DefaultAndLocalhost".equals(mode) && isLocalhost(host))) {
                return null;
            }
            boolean strict = "Strict".equals(mode);
            boolean ip = isIPv4(host) || isIPv6(host);
            int wantedType = ip ? 7 : 2;
            List<String> alts = new ArrayList<>();
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == wantedType) {
                        alts.add((String) san.get(1));
                    }
                }
            }
            String normalizedHost = isIPv6(host) ? normaliseIPv6(host.toLowerCase(Locale.ROOT)) : host;
            if (!alts.isEmpty()) {
                for (String alt : alts) {
                    if (matchIdentity(normalizedHost, isIPv6(alt) ? normaliseIPv6(alt) : alt, strict)) {
                        return null;
                    }
                }
                return "Certificate for <" + host + "> doesn't match any of the subject alternative names: " + alts;
            }
            String cn = firstCn(cert.getSubjectX500Principal());
            if (cn == null) {
                return "Certificate subject for <" + host + "> doesn't contain a common name and does not have alternative names";
            }
            if (matchIdentity(normalizedHost, isIPv6(cn) ? normaliseIPv6(cn) : cn, strict)) {
                return null;
            }
            return "Certificate for <" + host + "> doesn't match common name of the certificate subject: " + cn;
        }

        static String firstCn(X500Principal principal) throws Exception {
            // RFC 2253 lists the most specific RDN first: LdapName holds them in reverse, so walk it backwards.
            List<Rdn> rdns = new LdapName(principal.getName(X500Principal.RFC2253)).getRdns();
            for (int i = rdns.size() - 1; i >= 0; i--) {
                if ("CN".equalsIgnoreCase(rdns.get(i).getType())) {
                    return rdns.get(i).getValue().toString();
                }
            }
            return null;
        }

        static boolean matchIdentity(String host, String identity, boolean strict) {
            String h = host.toLowerCase(Locale.ROOT);
            String id = identity.toLowerCase(Locale.ROOT);
            String[] parts = id.split("\\.");
            boolean wildcard = parts.length >= 3 && parts[0].endsWith("*") && (!strict || validCountryWildcard(parts));
            if (!wildcard) {
                return h.equals(id);
            }
            boolean match;
            String first = parts[0];
            if (first.length() > 1) { // a partial wildcard such as "server*"
                String prefix = first.substring(0, first.length() - 1);
                String suffix = id.substring(first.length());
                match = h.startsWith(prefix) && h.substring(prefix.length()).endsWith(suffix);
            } else {
                match = h.endsWith(id.substring(1));
            }
            return match && (!strict || dots(h) == dots(id));
        }

        static boolean validCountryWildcard(String[] parts) {
            if (parts.length != 3 || parts[2].length() != 2) {
                return true;
            }
            for (String bad : BAD_COUNTRY_2LDS) {
                if (bad.equals(parts[1])) {
                    return false;
                }
            }
            return true;
        }

        static int dots(String s) {
            int n = 0;
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) == '.') {
                    n++;
                }
            }
            return n;
        }
    }

    // === JSON for the control channel ================================================================================================

    static final class Json {
        static String write(Object value) {
            if (value == null) {
                return "null";
            }
            if (value instanceof Boolean || value instanceof Number) {
                return value.toString();
            }
            if (value instanceof Map) {
                StringBuilder out = new StringBuilder("{");
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    out.append(out.length() > 1 ? "," : "").append(write(e.getKey().toString())).append(':').append(write(e.getValue()));
                }
                return out.append('}').toString();
            }
            if (value instanceof List) {
                StringBuilder out = new StringBuilder("[");
                for (Object item : (List<?>) value) {
                    out.append(out.length() > 1 ? "," : "").append(write(item));
                }
                return out.append(']').toString();
            }
            StringBuilder out = new StringBuilder("\"");
            for (char c : value.toString().toCharArray()) {
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
            return out.append('"').toString();
        }
    }
}
