// JdbcCheck runs the pgjdbc traffic that tools such as DBeaver send, and
// prints one line per check, so a test can compare a connection through
// jitgate with a direct one. Usage: java -cp postgresql.jar JdbcCheck URL
import java.math.BigDecimal;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0])) {
            byte[] blob = new byte[5 << 20];
            for (int i = 0; i < blob.length; i++) {
                blob[i] = (byte) (i * 31 + 7);
            }
            OffsetDateTime ts = OffsetDateTime.of(2026, 3, 4, 5, 6, 7, 123456000, ZoneOffset.UTC);
            String sql = "select ?::bytea, ?::int8[], ?::timestamptz, ?::numeric";
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                ResultSetMetaData md = ps.getMetaData();
                System.out.println("metadata columns=" + md.getColumnCount() + " first=" + md.getColumnTypeName(1));
                for (int run = 0; run < 5; run++) {
                    ps.setBytes(1, blob);
                    Array arr = conn.createArrayOf("int8", new Long[] {1L, 2L, 3L});
                    ps.setArray(2, arr);
                    ps.setObject(3, ts);
                    ps.setBigDecimal(4, new BigDecimal("12345.6789"));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        byte[] got = rs.getBytes(1);
                        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(got));
                        System.out.println("run " + run + " bytea=" + digest + " array=" + rs.getString(2)
                            + " ts=" + rs.getObject(3, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC)
                            + " numeric=" + rs.getBigDecimal(4));
                    }
                }
            }

            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.setFetchSize(100);
                long rows = 0, sum = 0;
                try (ResultSet rs = st.executeQuery("select g, repeat('x', 1000) from generate_series(1, 20000) g")) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1) + rs.getString(2).length();
                    }
                }
                System.out.println("fetch rows=" + rows + " sum=" + sum);
            }
            conn.commit();

            try (Statement st = conn.createStatement()) {
                st.execute("create temporary table jdbc_batch (id int, v text)");
            }
            try (PreparedStatement ps = conn.prepareStatement("insert into jdbc_batch values (?, ?)")) {
                for (int i = 0; i < 5000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row-" + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                System.out.println("batch statements=" + counts.length);
            }
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(
                    "select count(*), sum(id) from jdbc_batch")) {
                rs.next();
                System.out.println("batch rows=" + rs.getLong(1) + " sum=" + rs.getLong(2));
            }
            conn.commit();

            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(
                    "select current_setting('search_path'), current_setting('application_name')")) {
                rs.next();
                System.out.println("search_path=" + rs.getString(1) + " application_name=" + rs.getString(2));
            }
        }
    }
}
