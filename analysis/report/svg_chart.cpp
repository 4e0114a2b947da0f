#include "analysis/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/gates/junit.h"
#include "common/number_format.h"

namespace llmload::analysis {
namespace {

// An SVG coordinate or length: one decimal.
std::string coord(double v) {
  return format_number("%.1f", v);
}

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// A "nice" step (1, 2, 5 × 10^k) giving about `ticks` intervals over span.
double nice_step(double span, int ticks) {
  if (span <= 0) return 1;
  double raw = span / ticks;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

}  // namespace

std::string html_escape(const std::string& text) {
  return xml_escape(text);  // the same five entities; &apos; is valid HTML5
}

double percentile_to_x(double percentile) {
  double p = std::clamp(percentile, 0.0, 99.9999);
  return std::log10(1.0 / (1.0 - p / 100.0));
}

std::string format_axis_number(double v) {
  return format_number(v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-3) ? "%.2g" : "%.6g", v);
}

std::string svg_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  const double left = 64, right = 16, top = 28, bottom = 44;
  const double legend_h = 18.0 * double((series.size() + 2) / 3);
  const double w = spec.width, h = spec.height + legend_h;
  const double pw = w - left - right, ph = spec.height - top - bottom;

  double xmin = INFINITY, xmax = -INFINITY, ymin = 0, ymax = -INFINITY;
  for (const ChartSeries& s : series)
    for (auto [x, y] : s.points) {
      double px = spec.percentile_x ? percentile_to_x(x) : x;
      xmin = std::min(xmin, px);
      xmax = std::max(xmax, px);
      ymax = std::max(ymax, y);
    }
  for (const ChartMarker& m : spec.markers) {
    xmin = std::min(xmin, m.x);
    xmax = std::max(xmax, m.x);
    ymax = std::max(ymax, m.y);
  }
  if (spec.hline) ymax = std::max(ymax, *spec.hline);
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (spec.x_from_zero) xmin = std::min(xmin, 0.0);
  if (spec.percentile_x) xmin = 0, xmax = std::max(xmax, 2.0);
  if (xmax <= xmin) xmax = xmin + 1;
  if (!std::isfinite(ymax) || ymax <= 0) ymax = 1;
  double ystep = nice_step(ymax, 5);
  ymax = std::ceil(ymax * 1.05 / ystep) * ystep;

  auto X = [&](double x) { return left + (x - xmin) / (xmax - xmin) * pw; };
  auto Y = [&](double y) { return top + ph - (y - ymin) / (ymax - ymin) * ph; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"" +
                  html_escape(spec.id) + "\" viewBox=\"0 0 " + coord(w) + " " + coord(h) +
                  "\" width=\"" + coord(w) + "\" height=\"" + coord(h) + "\" role=\"img\">\n";
  s += "<title>" + html_escape(spec.title) + "</title>\n";
  s += "<text x=\"" + coord(left) + "\" y=\"18\" class=\"chart-title\">" + html_escape(spec.title) +
       "</text>\n";
  // Grid and y ticks.
  for (double y = 0; y <= ymax + ystep / 2; y += ystep) {
    s += "<line class=\"grid\" x1=\"" + coord(left) + "\" x2=\"" + coord(left + pw) + "\" y1=\"" +
         coord(Y(y)) + "\" y2=\"" + coord(Y(y)) + "\"/>";
    s += "<text class=\"tick\" x=\"" + coord(left - 6) + "\" y=\"" + coord(Y(y) + 4) +
         "\" text-anchor=\"end\">" + format_axis_number(y) + "</text>\n";
  }
  // x ticks.
  std::vector<std::pair<double, std::string>> xticks;
  if (spec.percentile_x) {
    for (double p : {0.0, 90.0, 99.0, 99.9, 99.99, 99.999, 99.9999})
      if (percentile_to_x(p) <= xmax + 1e-9)
        xticks.push_back({percentile_to_x(p), format_axis_number(p) + "%"});
  } else {
    double step = nice_step(xmax - xmin, 6);
    for (double x = std::ceil(xmin / step) * step; x <= xmax + 1e-9; x += step)
      xticks.push_back({x, format_axis_number(x)});
  }
  for (const auto& [x, label] : xticks) {
    s += "<line class=\"grid\" x1=\"" + coord(X(x)) + "\" x2=\"" + coord(X(x)) + "\" y1=\"" +
         coord(top) + "\" y2=\"" + coord(top + ph) + "\"/>";
    s += "<text class=\"tick\" x=\"" + coord(X(x)) + "\" y=\"" + coord(top + ph + 16) +
         "\" text-anchor=\"middle\">" + html_escape(label) + "</text>\n";
  }
  s += "<text class=\"axis-label\" x=\"" + coord(left + pw / 2) + "\" y=\"" + coord(top + ph + 34) +
       "\" text-anchor=\"middle\">" + html_escape(spec.x_label) + "</text>\n";
  s += "<text class=\"axis-label\" transform=\"translate(14," + coord(top + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(spec.y_label) + "</text>\n";
  for (size_t i = 0; i < spec.vlines.size(); ++i) {
    const double v = spec.vlines[i];
    if (v < xmin || v > xmax) continue;
    s += "<line class=\"marker\" data-x=\"" + format_axis_number(v) + "\" x1=\"" + coord(X(v)) +
         "\" x2=\"" + coord(X(v)) + "\" y1=\"" + coord(top) + "\" y2=\"" + coord(top + ph) + "\"/>";
    if (i < spec.vline_labels.size() && !spec.vline_labels[i].empty())
      s += "<text class=\"marker-label\" x=\"" + coord(X(v) + 3) + "\" y=\"" + coord(top + 10) +
           "\">" + html_escape(spec.vline_labels[i]) + "</text>";
    s += "\n";
  }
  if (spec.hline) {
    s += "<line class=\"slo\" x1=\"" + coord(left) + "\" x2=\"" + coord(left + pw) + "\" y1=\"" +
         coord(Y(*spec.hline)) + "\" y2=\"" + coord(Y(*spec.hline)) + "\"/>";
    s += "<text class=\"slo-label\" x=\"" + coord(left + pw - 4) + "\" y=\"" +
         coord(Y(*spec.hline) - 4) + "\" text-anchor=\"end\">" + html_escape(spec.hline_label) +
         "</text>\n";
  }
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kPalette[i % (sizeof kPalette / sizeof *kPalette)];
    std::string pts;
    for (auto [x, y] : series[i].points) {
      double px = spec.percentile_x ? percentile_to_x(x) : x;
      pts += coord(X(px)) + "," + coord(Y(y)) + " ";
    }
    if (!pts.empty()) pts.pop_back();
    s += "<polyline class=\"series\" data-series=\"" + html_escape(series[i].name) +
         "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\" points=\"" + pts +
         "\"/>\n";
    double lx = left + double(i % 3) * (pw / 3), ly = spec.height + 18.0 * double(i / 3);
    s += "<rect x=\"" + coord(lx) + "\" y=\"" + coord(ly - 9) +
         "\" width=\"12\" height=\"4\" fill=\"" + color + "\"/><text class=\"legend\" x=\"" +
         coord(lx + 16) + "\" y=\"" + coord(ly - 4) + "\">" + html_escape(series[i].name) +
         "</text>\n";
  }
  for (const ChartMarker& m : spec.markers) {
    const double mx = X(spec.percentile_x ? percentile_to_x(m.x) : m.x), my = Y(m.y);
    s += "<circle class=\"" + html_escape(m.css_class) + "\" data-x=\"" + format_axis_number(m.x) +
         "\" data-y=\"" + format_axis_number(m.y) + "\" cx=\"" + coord(mx) + "\" cy=\"" +
         coord(my) + "\" r=\"" + (m.label.empty() ? "3.5" : "6") + "\">";
    if (!m.title.empty()) s += "<title>" + html_escape(m.title) + "</title>";
    s += "</circle>";
    if (!m.label.empty()) {
      const bool left_side = mx > left + pw * 0.7;  // keep the text inside the plot
      // Below the dot when above it would sit on the reference line's label.
      const bool below = spec.hline && std::fabs(my - 8 - Y(*spec.hline)) < 12;
      s += "<text class=\"marker-label " + html_escape(m.css_class) + "-label\" x=\"" +
           coord(left_side ? mx - 9 : mx + 9) + "\" y=\"" + coord(below ? my + 18 : my - 8) +
           "\" text-anchor=\"" + (left_side ? "end" : "start") + "\">" + html_escape(m.label) +
           "</text>";
    }
    s += "\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace llmload::analysis
