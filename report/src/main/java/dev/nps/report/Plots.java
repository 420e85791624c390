package dev.nps.report;

import java.io.IOException;
import java.util.Base64;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts drawn by XChart and embedded as base64 PNG, so report.html needs no script, font or
 * network. PNG rather than XChart's SVG: its SVG draws every glyph as a path (six times the bytes)
 * and gives clip paths random ids, which clash when several charts share one page.
 */
final class Plots {
    static {
        // Charts are drawn off-screen; without this a server without a display fails on first use.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** One line; {@code secondAxis} puts it on a right-hand y axis of its own. */
    record Series(String name, List<Double> x, List<Double> y, boolean secondAxis, boolean markersOnly) {
        Series(String name, List<Double> x, List<Double> y) {
            this(name, x, y, false, false);
        }
    }

    /** A chart to draw: sizes in pixels; {@code rightAxisTitle} only matters when a series uses the second axis. */
    record Chart(String title, String xTitle, String yTitle, String rightAxisTitle, int width, int height,
                 List<Series> series) {
    }

    private Plots() {
    }

    /** The chart as PNG bytes. */
    static byte[] png(Chart c) {
        XYChart chart = new XYChartBuilder().width(c.width()).height(c.height()).title(c.title())
                .xAxisTitle(c.xTitle()).yAxisTitle(c.yTitle()).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(java.awt.Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(java.awt.Color.LIGHT_GRAY);
        chart.getStyler().setXAxisDecimalPattern("#.###");
        boolean many = c.series().stream().mapToInt(x -> x.x().size()).max().orElse(0) > 25;
        for (Series ser : c.series()) {
            XYSeries xy = chart.addSeries(ser.name(), ser.x(), ser.y());
            if (ser.markersOnly()) { // a point to single out: black, on top of the lines
                xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                xy.setMarker(SeriesMarkers.CROSS);
                xy.setMarkerColor(java.awt.Color.BLACK);
            } else if (many) {
                xy.setMarker(SeriesMarkers.NONE); // long histories: markers would hide the lines
            }
            if (ser.secondAxis()) {
                xy.setYAxisGroup(1);
                chart.setYAxisGroupTitle(1, c.rightAxisTitle());
                chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
            }
        }
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The chart as a data: URI for an img element. */
    static String dataUri(Chart c) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png(c));
    }
}
