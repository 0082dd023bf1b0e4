// Sends one short message with Jakarta Mail, the way a Java application (Pega among them) does,
// so the tests can read the library's own words for every failure.
//
//   java -cp jakarta-mail.jar:jakarta-activation.jar:. JakartaSend --host 127.0.0.1 --port 2525
//       --security starttls --user app@example.com --password-env SMTP_PASSWORD
//       --from app@example.com --to someone@example.com --cafile ca.pem --debug
//
// The password is read from the environment variable that --password-env names (SMTP_PASSWORD
// unless told), never from the command line. --debug turns mail.debug on: the "DEBUG SMTP:" lines
// and the SMTP dialogue go to stdout, the AUTH exchange hidden unless --debug-auth is given too.
// A failure prints the exception as Java renders it, nested exceptions included: the text an
// application's "Test Connectivity" message shows.
//
// Timeouts are in milliseconds (mail.smtp.connectiontimeout, mail.smtp.timeout; 10 s unless told,
// where the library itself would wait for ever). Whatever no option sets is the library's default.
//
// Exit codes: 0 sent, 1 Jakarta Mail could not send, 2 bad arguments or unreadable CA file.

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public final class JakartaSend {

    private static final List<String> FLAGS = List.of("--debug", "--debug-auth");
    private static final List<String> OPTIONS = List.of(
            "--host", "--port", "--security", "--user", "--password-env", "--from", "--to",
            "--cafile", "--truststore", "--connect-timeout", "--timeout", "--ehlo-name",
            "--check-server-identity");

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parse(argv);
        Properties props = settings(args);
        Session session = Session.getInstance(props);  // mail.debug output goes to System.out

        String user = args.get("--user");
        String password = user == null ? null : System.getenv(args.getOrDefault("--password-env", "SMTP_PASSWORD"));
        Transport transport = null;
        try {
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(args.get("--from")));
            message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(args.get("--to")));
            message.setSubject("mailtriage Jakarta Mail test");
            message.setText("A test message sent with Jakarta Mail.\n");
            message.saveChanges();

            transport = session.getTransport("smtp");
            transport.connect(args.get("--host"), port(args), user, password);
            transport.sendMessage(message, message.getAllRecipients());
        } catch (MessagingException e) {
            System.out.println(e);  // MessagingException's toString() carries the nested exceptions
            System.exit(1);
        } finally {
            if (transport != null) {
                try {
                    transport.close();
                } catch (MessagingException ignored) {
                    // the connection is already gone; the failure that matters was printed
                }
            }
        }
    }

    /** The session properties an application sets for these arguments. */
    private static Properties settings(Map<String, String> args) throws Exception {
        if (!args.containsKey("--host") || !args.containsKey("--from") || !args.containsKey("--to")) {
            usage("--host, --from and --to are required");
        }
        Properties props = new Properties();
        props.put("mail.smtp.connectiontimeout", args.getOrDefault("--connect-timeout", "10000"));
        props.put("mail.smtp.timeout", args.getOrDefault("--timeout", "10000"));
        props.put("mail.smtp.auth", String.valueOf(args.containsKey("--user")));
        if (args.containsKey("--debug")) {
            props.put("mail.debug", "true");
        }
        if (args.containsKey("--debug-auth")) {
            props.put("mail.debug.auth", "true");  // show the AUTH dialogue, credentials included
        }
        // Message-ID is made from this address instead of from a look-up of this machine's name.
        props.put("mail.from", args.get("--from"));
        if (args.containsKey("--ehlo-name")) {
            props.put("mail.smtp.localhost", args.get("--ehlo-name"));
        }
        String security = args.getOrDefault("--security", "starttls");
        switch (security) {
            case "none" -> { }
            case "starttls" -> {
                props.put("mail.smtp.starttls.enable", "true");
                props.put("mail.smtp.starttls.required", "true");
            }
            case "ssl" -> props.put("mail.smtp.ssl.enable", "true");
            default -> usage("--security must be none, starttls or ssl, not " + security);
        }
        if (args.containsKey("--check-server-identity")) {
            props.put("mail.smtp.ssl.checkserveridentity", args.get("--check-server-identity"));
        }
        if (args.containsKey("--cafile")) {
            // Trust exactly the CA certificates in this PEM file (for STARTTLS and implicit TLS).
            props.put("mail.smtp.ssl.socketFactory", trusting(args.get("--cafile")).getSocketFactory());
        } else if (args.containsKey("--truststore")) {
            // As a Java application server is usually set up: a JVM-wide trust store.
            System.setProperty("javax.net.ssl.trustStore", args.get("--truststore"));
        }
        return props;
    }

    private static int port(Map<String, String> args) {
        try {
            return Integer.parseInt(args.getOrDefault("--port", "25"));
        } catch (NumberFormatException e) {
            usage("--port must be a number, not " + args.get("--port"));
            return -1;
        }
    }

    private static SSLContext trusting(String pemFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(pemFile)) {
            int i = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            if (i == 0) {
                usage(pemFile + " holds no PEM certificate");
            }
        } catch (IOException | CertificateException e) {
            usage("cannot read the CA file " + pemFile + ": " + e);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (FLAGS.contains(argv[i])) {
                args.put(argv[i], "true");
            } else if (OPTIONS.contains(argv[i]) && i + 1 < argv.length) {
                args.put(argv[i], argv[++i]);
            } else {
                usage("unknown or incomplete argument " + argv[i]);
            }
        }
        return args;
    }

    private static void usage(String problem) {
        System.err.println("JakartaSend: " + problem);
        System.err.println("options: " + String.join(" ", OPTIONS) + " (each with a value), " + String.join(" ", FLAGS));
        System.exit(2);
    }
}
