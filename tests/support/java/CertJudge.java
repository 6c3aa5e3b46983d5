// CertJudge: what Java's CertificateFactory.getInstance("X.509") makes of certificates, the judge of the corpus test
// (tests/interop/test_certificate_corpus.py).
//
// stdin: paths of DER certificate files, one per line. stdout: one TSV line per file:
//   path  ACCEPT|REFUSE  detail
// ACCEPT: generateCertificate read it, getEncoded() is the input, and a JKS store holding it stores and loads back
// (what keytool and the gateway do with a truststore); detail is the SHA-256 of getEncoded().
// REFUSE: generateCertificate threw; detail is the innermost exception's message.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.util.*;

public class CertJudge {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        char[] password = "judge".toCharArray();
        String path;
        while ((path = in.readLine()) != null) {
            if (path.isBlank()) continue;
            byte[] der = Files.readAllBytes(Paths.get(path));
            String verdict, detail;
            try {
                java.security.cert.Certificate cert = factory.generateCertificate(new ByteArrayInputStream(der));
                if (!Arrays.equals(cert.getEncoded(), der)) throw new IllegalStateException("getEncoded() differs from the input");
                KeyStore store = KeyStore.getInstance("JKS");
                store.load(null, password);
                store.setCertificateEntry("judged", cert);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                store.store(bytes, password);
                KeyStore again = KeyStore.getInstance("JKS");
                again.load(new ByteArrayInputStream(bytes.toByteArray()), password);
                byte[] back = again.getCertificate("judged").getEncoded();
                verdict = "ACCEPT";
                detail = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(back));
            } catch (Throwable e) {
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) root = root.getCause();
                verdict = "REFUSE";
                detail = String.valueOf(root.getMessage()).replaceAll("[\\t\\r\\n]+", " ");
            }
            out.println(path + "\t" + verdict + "\t" + detail);
        }
    }
}
