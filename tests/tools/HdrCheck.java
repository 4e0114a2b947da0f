// Decodes llmload's HdrHistogram output with the Java reference library, for the interop
// tests (tests/unit/hdr_java_interop_test.cpp). Single-file source launch:
//
//   java -cp /usr/share/java/hdrhistogram.jar tests/tools/HdrCheck.java < encodings.txt
//     stdin: one base64 (HISTF...) encoding per line. For each, one line on stdout:
//     "total=N max=M p50=A p90=B p99=C p99.9=D min=E" or "error=MESSAGE".
//
//   java -cp /usr/share/java/hdrhistogram.jar tests/tools/HdrCheck.java --log FILE.hlog
//     reads an interval log with the reference HistogramLogReader; one line per interval:
//     "tag=T start=S end=E total=N max=M p99=C", then "intervals=K".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

public class HdrCheck {
  static String summary(Histogram h) {
    return "total=" + h.getTotalCount() + " max=" + h.getMaxValue()
        + " p50=" + h.getValueAtPercentile(50.0) + " p90=" + h.getValueAtPercentile(90.0)
        + " p99=" + h.getValueAtPercentile(99.0) + " p99.9=" + h.getValueAtPercentile(99.9)
        + " min=" + h.getMinValue();
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--log")) {
      HistogramLogReader reader = new HistogramLogReader(args[1]);
      int n = 0;
      EncodableHistogram e;
      while ((e = reader.nextIntervalHistogram()) != null) {
        Histogram h = (Histogram) e;
        System.out.println("tag=" + h.getTag() + " start=" + h.getStartTimeStamp()
            + " end=" + h.getEndTimeStamp() + " total=" + h.getTotalCount()
            + " max=" + h.getMaxValue() + " p99=" + h.getValueAtPercentile(99.0));
        n++;
      }
      System.out.println("intervals=" + n);
      return;
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.isEmpty()) continue;
      try {
        byte[] bytes = Base64.getDecoder().decode(line);
        Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0);
        System.out.println(summary(h));
      } catch (Exception ex) {
        System.out.println("error=" + ex.toString().replace('\n', ' '));
      }
    }
  }
}
