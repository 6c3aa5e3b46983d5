// JavaLower: String.toLowerCase(Locale.ENGLISH), what Java's keystores do to an alias (tests/interop/test_alias_case.py).
// stdin: one string per line, each UTF-16 code unit as a backslash, "u" and 4 hex digits; stdout: its lower case, the same way.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

public class JavaLower {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)), false, "US-ASCII");
        String line;
        while ((line = in.readLine()) != null) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i + 6 <= line.length(); i += 6) text.append((char) Integer.parseInt(line.substring(i + 2, i + 6), 16));
            String lower = text.toString().toLowerCase(Locale.ENGLISH);
            StringBuilder escaped = new StringBuilder();
            for (int i = 0; i < lower.length(); i++) escaped.append(String.format("\\u%04x", (int) lower.charAt(i)));
            out.println(escaped);
        }
        out.flush();
    }
}
