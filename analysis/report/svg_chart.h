// Line charts as inline SVG, drawn by our own code (no third-party JavaScript): the report's
// percentile spectra (latency against percentile on the standard HdrHistogram log scale) and
// time series.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmload::analysis {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y) in data units
};

// A dot drawn on the chart: <circle class="CSS_CLASS" data-x data-y> with an optional label
// beside it and a <title> (the tooltip).
struct ChartMarker {
  double x = 0, y = 0;  // data units
  std::string css_class;
  std::string label;  // drawn beside the dot; empty: none
  std::string title;  // tooltip; empty: none
};

struct ChartSpec {
  std::string id;  // the svg element's id (tests and links find charts by it)
  std::string title;
  std::string x_label;
  std::string y_label;
  // x holds percentiles (0..100) drawn on the HdrHistogram scale: position log10(1/(1−p/100)),
  // ticks at 0, 90, 99, 99.9, 99.99, 99.999.
  bool percentile_x = false;
  std::optional<double> hline;  // a horizontal reference (an SLO), in y units
  std::string hline_label;
  std::vector<double> vlines;             // vertical markers (stage boundaries), in x units: each a
                                          // <line class="marker" data-x="X">
  std::vector<std::string> vline_labels;  // text at the top of vlines[i] (may be shorter)
  std::vector<ChartMarker> markers;       // dots over the series (inside the axes' range)
  bool x_from_zero = false;               // the x axis starts at 0 (else at the smallest x)
  int width = 720;
  int height = 320;
};

// Maps a percentile to the spectrum's x position (clamped at 99.9999).
double percentile_to_x(double percentile);

// The whole <svg> element. Each series is one <polyline class="series" data-series="NAME">
// with one point per data point; a legend names them.
std::string svg_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series);

// "1", "2.5", "10", "0.05": axis labels.
std::string format_axis_number(double v);

std::string html_escape(const std::string& text);

}  // namespace llmload::analysis
