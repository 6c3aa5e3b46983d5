// PlainSealedObject FILE: writes a serialized javax.crypto.SealedObject of an AES key, the kind of secret-key entry a
// non-Java tool could put in a JCEKS store (tests/interop/test_jceks_secret_keys.py); JceKeyStore accepts only its own
// SealedObjectForKeyProtector there.
import java.io.*;
import javax.crypto.*;
import javax.crypto.spec.SecretKeySpec;

public class PlainSealedObject {
    public static void main(String[] args) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/ECB/PKCS5Padding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[16], "AES"));
        try (ObjectOutputStream out = new ObjectOutputStream(new FileOutputStream(args[0]))) {
            out.writeObject(new SealedObject(new SecretKeySpec(new byte[16], "AES"), cipher));
        }
    }
}
