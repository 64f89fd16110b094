// Package charts renders dashboard charts as HTML snippets for our own html/template pages.
//
// go-echarts builds the ECharts option object, but we render the snippet ourselves: its page
// templates load echarts from a CDN and emit inline scripts without a CSP nonce, and a clinic's
// dashboard must make no external request. Each snippet is a <figure> holding the chart
// container, a data table with the same numbers, and one nonce'd <script> that initialises the
// chart against the global `echarts` the page loads from /static/vendor/echarts.min.js.
package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strconv"

	"github.com/carevoice/carevoice/stats"
)

// OkabeIto is the Okabe–Ito palette (Okabe & Ito, 2008), distinguishable under the common
// forms of colour blindness. Yellow goes last because it has poor contrast on white.
var OkabeIto = []string{
	"#0072B2", // blue
	"#E69F00", // orange
	"#009E73", // bluish green
	"#CC79A7", // reddish purple
	"#56B4E9", // sky blue
	"#D55E00", // vermillion
	"#000000", // black
	"#F0E442", // yellow
}

// SentimentColors gives each sentiment label a fixed Okabe–Ito colour so "negative" is the same
// colour on every chart; pass them as Series.Color.
var SentimentColors = map[string]string{
	"positive": "#009E73",
	"neutral":  "#999999",
	"mixed":    "#E69F00",
	"negative": "#D55E00",
}

// symbols cycle with the palette so lines differ by marker shape too, not by colour alone
// (WCAG 1.4.1).
var symbols = []string{"circle", "rect", "triangle", "diamond", "roundRect", "pin", "arrow", "emptyCircle"}

// heatmapRamp is a single-hue sequential blue ramp: lightness alone carries the value, which
// survives every kind of colour blindness and greyscale printing.
var heatmapRamp = []string{"#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"}

// Point is one value on a chart. A nil Value is drawn as a gap and written in the table as
// Note, or, when Note is empty, as "fewer than MinCell": a suppressed rate must never turn
// into a zero.
type Point struct {
	Label string
	Value *float64
	Note  string
}

// RatePoint turns a stats.Rate into a Point, carrying its suppression note.
func RatePoint(label string, r stats.Rate) Point {
	return Point{Label: label, Value: r.Value, Note: r.Note}
}

// Series is a named run of points; its points' labels are the categories (bucket keys, theme
// labels, site names).
type Series struct {
	Name   string
	Points []Point
	// Color overrides the palette for this series (e.g. SentimentColors); "#rrggbb" only.
	Color string
}

// Options are the settings shared by every chart kind.
type Options struct {
	// ID is the container's element id, unique on the page; letters, digits, '-' and '_',
	// starting with a letter. It is ours, not user input, but it is validated anyway because
	// it lands in an attribute and a script.
	ID string
	// Nonce is the page's CSP nonce, put on the <script> tag.
	Nonce string
	// Title is shown above the chart and is the table caption.
	Title string
	// Category heads the table's first column ("Week", "Theme").
	Category string
	// YName names the value axis ("% positive", "NPS").
	YName string
	// Unit is appended to numbers in the table (" %").
	Unit string
	// Decimals is the number of decimals in the table.
	Decimals int
	// MinCell is the suppression threshold, for the default "fewer than N" note.
	MinCell int
	// YMin and YMax fix the value axis (0–100 for %, −100–100 for NPS) so that a chart of a
	// quiet week doesn't zoom into noise; nil lets ECharts choose.
	YMin, YMax *float64
	// Height of the chart in CSS pixels; 0 means 360.
	Height int
	// Horizontal draws bar charts with categories on the y axis, for long theme names.
	Horizontal bool
}

// F is a convenience for building *float64 values in callers and tests.
func F(v float64) *float64 { return &v }

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	noncePattern = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{8,128}$`)
	colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
)

func (o *Options) validate(series []Series) error {
	if !idPattern.MatchString(o.ID) {
		return fmt.Errorf("charts: id %q must be a letter then up to 63 letters, digits, '-' or '_'", o.ID)
	}
	if !noncePattern.MatchString(o.Nonce) {
		return errors.New("charts: nonce missing or not base64")
	}
	for _, s := range series {
		if s.Color != "" && !colorPattern.MatchString(s.Color) {
			return fmt.Errorf("charts: series colour %q is not #rrggbb", s.Color)
		}
	}
	if o.Height <= 0 {
		o.Height = 360
	}
	return nil
}

// categories is the union of point labels across series in order of first appearance, so a
// series that lacks a bucket still lines up with the others.
func categories(series []Series) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range series {
		for _, p := range s.Points {
			if !seen[p.Label] {
				seen[p.Label] = true
				out = append(out, p.Label)
			}
		}
	}
	return out
}

// points maps a series' labels to its points, the first of each label. Scanning the series for
// every category was quadratic: a year of days on the themes page is 365 categories × 10 lines
// and their tables.
type points map[string]Point

func index(s Series) points {
	m := make(points, len(s.Points))
	for _, p := range s.Points {
		if _, ok := m[p.Label]; !ok {
			m[p.Label] = p
		}
	}
	return m
}

// lookup returns the series' point for a category, or a zero Point (nil value) if absent.
func (m points) lookup(label string) (Point, bool) {
	p, ok := m[label]
	return p, ok
}

// cellText is what the table shows for a point.
func (o *Options) cellText(p Point, present bool) string {
	if p.Value != nil {
		return strconv.FormatFloat(*p.Value, 'f', o.Decimals, 64) + o.Unit
	}
	if p.Note != "" {
		return p.Note
	}
	if !present {
		return "–"
	}
	if o.MinCell > 0 {
		return stats.SuppressedNote(o.MinCell)
	}
	return stats.NoDataNote
}

// table is the accessible twin of a chart.
type table struct {
	Caption string
	Corner  string
	Columns []string
	Rows    []tableRow
}

type tableRow struct {
	Head  string
	Cells []string
}

// byCategory lays out rows = categories, columns = series: the reading order of a time axis.
func (o *Options) byCategory(series []Series) table {
	t := table{Caption: o.Title, Corner: o.Category}
	for _, s := range series {
		t.Columns = append(t.Columns, s.Name)
	}
	idx := make([]points, len(series))
	for i, s := range series {
		idx[i] = index(s)
	}
	for _, c := range categories(series) {
		r := tableRow{Head: c}
		for _, m := range idx {
			p, ok := m.lookup(c)
			r.Cells = append(r.Cells, o.cellText(p, ok))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// bySeries lays out rows = series, columns = categories: the shape of a heatmap.
func (o *Options) bySeries(series []Series) table {
	t := table{Caption: o.Title, Corner: o.Category, Columns: categories(series)}
	for _, s := range series {
		r := tableRow{Head: s.Name}
		m := index(s)
		for _, c := range t.Columns {
			p, ok := m.lookup(c)
			r.Cells = append(r.Cells, o.cellText(p, ok))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// snippet is parsed once. html/template escapes every field for its context: names in the
// table as HTML text, the id inside the script as a JS string. The option object goes in as
// template.JS, which is only safe because optionJS escapes it itself (see there).
var snippet = template.Must(template.New("chart").Parse(`<figure class="chart" id="{{.ID}}-figure">
<div id="{{.ID}}" class="chart-canvas" aria-hidden="true"></div>
<table class="chart-table" id="{{.ID}}-table">
<caption>{{.Table.Caption}}</caption>
<thead><tr><th scope="col">{{.Table.Corner}}</th>{{range .Table.Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Table.Rows}}<tr><th scope="row">{{.Head}}</th>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</figure>
<script {{.NonceAttr}}>
(function () {
  var el = document.getElementById({{.ID}});
  if (!el || typeof echarts === "undefined") { return; }
  if (!el.clientHeight) { el.style.height = {{.HeightCSS}}; }
  var chart = echarts.init(el);
  chart.setOption({{.Option}});
  // The chart is drawn as soon as its snippet is parsed, before the charts
  // after it share its grid row: follow the container, not just the window.
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(function () { chart.resize(); }).observe(el);
  } else {
    window.addEventListener("resize", function () { chart.resize(); });
  }
})();
</script>
`))

// optionJS serialises an option object for a <script> body. json.Marshal escapes <, > and &
// as \u003c… and U+2028/U+2029 as \u2028…, also inside go-echarts' own MarshalJSON output
// (which it writes unescaped) because Marshal re-escapes what a Marshaler returns. So no label
// can close the script (</script>), open a comment (<!--) or end a JS line, whatever a site
// or theme is called.
func optionJS(option map[string]any) (template.JS, error) {
	b, err := json.Marshal(option)
	if err != nil {
		return "", fmt.Errorf("charts: encode option: %w", err)
	}
	return template.JS(b), nil
}

func render(o Options, t table, option map[string]any) (template.HTML, error) {
	js, err := optionJS(option)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = snippet.Execute(&buf, map[string]any{
		"ID": o.ID,
		// The nonce matched noncePattern (base64 characters only), so it can go into the
		// attribute verbatim; html/template would otherwise write '+' as &#43;, which browsers
		// decode correctly but which makes the served nonce harder to compare in tests and logs.
		"NonceAttr": template.HTMLAttr(`nonce="` + o.Nonce + `"`),
		"HeightCSS": strconv.Itoa(o.Height) + "px", "Table": t, "Option": js,
	})
	if err != nil {
		return "", fmt.Errorf("charts: render %s: %w", o.ID, err)
	}
	return template.HTML(buf.String()), nil
}
