import java.io.FileInputStream;
import java.io.InputStream;
import java.net.URL;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * A test judge: does the JVM's KeyManagerFactory (the default algorithm, SunX509, as the gateway's sender uses it)
 * load a keystore's key entry with the key password, and does the key belong to its certificate? Optionally, call an
 * HTTPS URL presenting that key pair (the server's certificate is not checked: this judges the client side only).
 *
 * Arguments: keystore-file store-type alias [url]. Passwords from the environment (KJ_STOREPASS, KJ_KEYPASS), never
 * the command line. Prints "KEY <algorithm> <chain length> <leaf SHA-256> MATCH|MISMATCH", then "HTTP <code>" or
 * "FAILED <exception>".
 */
public class KeyJudge {
    public static void main(String[] args) throws Exception {
        char[] storePass = System.getenv("KJ_STOREPASS").toCharArray();
        char[] keyPass = System.getenv("KJ_KEYPASS").toCharArray();
        KeyStore ks = KeyStore.getInstance(args[1]);
        try (InputStream in = new FileInputStream(args[0])) {
            ks.load(in, storePass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, keyPass);
        X509KeyManager km = (X509KeyManager) kmf.getKeyManagers()[0];
        PrivateKey key = km.getPrivateKey(args[2]);
        X509Certificate[] chain = km.getCertificateChain(args[2]);
        if (key == null || chain == null) {
            System.out.println("NOKEY " + args[2]);
            System.exit(4);
        }
        String algorithm = key.getAlgorithm();
        String sigAlg = algorithm.equals("RSA") ? "SHA256withRSA" : algorithm.equals("EC") ? "SHA256withECDSA" : algorithm;
        byte[] data = "apim.certificates".getBytes("UTF-8");
        Signature signer = Signature.getInstance(sigAlg);
        signer.initSign(key);
        signer.update(data);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(sigAlg);
        verifier.initVerify(chain[0].getPublicKey());
        verifier.update(data);
        boolean match = verifier.verify(signature);
        StringBuilder hex = new StringBuilder();
        for (byte b : MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded())) {
            if (hex.length() > 0) hex.append(':');
            hex.append(String.format("%02X", b));
        }
        System.out.println("KEY " + algorithm + " " + chain.length + " " + hex + " " + (match ? "MATCH" : "MISMATCH"));
        if (args.length > 3) {
            TrustManager[] anyServer = {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] c, String a) {}
                public void checkServerTrusted(X509Certificate[] c, String a) {}
                public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            }};
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), anyServer, null);
            HttpsURLConnection c = (HttpsURLConnection) new URL(args[3]).openConnection();
            c.setSSLSocketFactory(context.getSocketFactory());
            c.setHostnameVerifier((host, session) -> true);
            c.setConnectTimeout(10000);
            c.setReadTimeout(10000);
            try {
                System.out.println("HTTP " + c.getResponseCode());
            } catch (Exception e) {
                System.out.println("FAILED " + e);
            }
        }
    }
}
