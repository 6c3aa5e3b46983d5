// TrustJudge: what a JVM's default TrustManager (PKIX) trusts of a keystore (tests/support/java_trust.py).
// args: the keystore and its type; the password comes from the environment variable TRUST_PASS, never argv.
// stdout: "ALIAS\t<alias>\t<containsAlias>\t<isCertificateEntry>" for each alias KeyStore.aliases() lists, "END";
// then, for each stdin line (the PEM or DER files of one chain, leaf first, separated by tabs), "TRUSTED" or
// "REFUSED\t<the exception>", from X509TrustManager.checkServerTrusted.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import javax.net.ssl.*;

public class TrustJudge {
    public static void main(String[] args) throws Exception {
        KeyStore store = KeyStore.getInstance(args[1]);
        try (InputStream in = new FileInputStream(args[0])) {
            store.load(in, System.getenv("TRUST_PASS").toCharArray());
        }
        for (String alias : Collections.list(store.aliases())) {
            System.out.println("ALIAS\t" + alias + "\t" + store.containsAlias(alias) + "\t" + store.isCertificateEntry(alias));
        }
        System.out.println("END");
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        X509TrustManager manager = (X509TrustManager) factory.getTrustManagers()[0];
        CertificateFactory certificates = CertificateFactory.getInstance("X.509");
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            List<X509Certificate> chain = new ArrayList<>();
            for (String file : line.split("\t")) {
                try (InputStream in = new FileInputStream(file)) {
                    chain.add((X509Certificate) certificates.generateCertificate(in));
                }
            }
            try {
                manager.checkServerTrusted(chain.toArray(new X509Certificate[0]), "UNKNOWN");
                System.out.println("TRUSTED");
            } catch (CertificateException | RuntimeException e) {  // no trust anchor at all: a RuntimeException
                System.out.println("REFUSED\t" + e.toString().replace('\n', ' '));
            }
        }
    }
}
