package charts

import (
	"context"
	"encoding/json"
	"html/template"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/stats"
)

const nonce = "r4nd0mN0nce+/="

// hostile are user-controlled names (sites, themes, departments) that try every way out of a
// <script> or an HTML attribute.
var hostile = []string{
	`North</script><script>alert(1)</script>`,
	`"quoted" 'single' \backslash`,
	`<!-- comment <script>`,
	"line\u2028sep\u2029para",
	`</SCRIPT ><img src=x onerror=alert(2)>`,
	`a & b > c ]]> ${x}`,
}

type kind struct {
	name   string
	render func(Options, ...Series) (template.HTML, error)
}

var kinds = []kind{
	{"Line", Line}, {"StackedArea", StackedArea}, {"Bar", Bar}, {"StackedBar", StackedBar}, {"Heatmap", Heatmap},
	{"HorizontalBar", func(o Options, s ...Series) (template.HTML, error) { o.Horizontal = true; return Bar(o, s...) }},
}

func baseOptions() Options {
	return Options{ID: "chart-1", Nonce: nonce, Title: "FFT % positive", Category: "Week",
		YName: "% positive", Unit: " %", Decimals: 1, MinCell: 10, YMin: F(0), YMax: F(100)}
}

func hostileSeries() []Series {
	var pts []Point
	for i, h := range hostile {
		p := Point{Label: h, Value: F(float64(10 * i))}
		if i == 2 {
			p.Value = nil // suppressed
		}
		pts = append(pts, p)
	}
	return []Series{
		{Name: hostile[0], Points: pts},
		{Name: hostile[3], Points: pts, Color: SentimentColors["negative"]},
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	scriptBody = regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script`)
	optionArg  = regexp.MustCompile(`(?s)chart\.setOption\((.*?)\);\n`)
)

func TestEscaping(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			o := baseOptions()
			o.Title = hostile[0] + hostile[2]
			out, err := k.render(o, hostileSeries()...)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			// Exactly our one script: no name opened or closed another.
			if n := len(scriptTag.FindAllString(s, -1)); n != 1 {
				t.Fatalf("got %d <script> tags, want 1:\n%s", n, s)
			}
			if n := strings.Count(strings.ToLower(s), "</script"); n != 1 {
				t.Fatalf("got %d </script, want 1:\n%s", n, s)
			}
			for _, bad := range []string{"<!--", "<img", "<b>", "onerror=alert(2)>"} {
				if strings.Contains(s, bad) {
					t.Fatalf("output contains raw %q:\n%s", bad, s)
				}
			}
			body := scriptBody.FindStringSubmatch(s)[1]
			if strings.ContainsAny(body, "\u2028\u2029<>") {
				t.Fatalf("script body contains a raw line separator or angle bracket:\n%s", body)
			}
			// The option is valid JSON and carries every name back unchanged.
			m := optionArg.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no setOption call in:\n%s", body)
			}
			var opt map[string]any
			if err := json.Unmarshal([]byte(m[1]), &opt); err != nil {
				t.Fatalf("option is not JSON: %v\n%s", err, m[1])
			}
			seen := map[string]bool{}
			collectStrings(opt, seen)
			for _, h := range hostile {
				if !seen[h] {
					t.Fatalf("name %q lost from option", h)
				}
			}
		})
	}
}

// TestScriptRunsInNode executes each snippet's script against stub `document` and `echarts`
// globals, proving it is valid JavaScript that hands the names to ECharts unchanged. Skipped
// where node isn't installed.
func TestScriptRunsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			out, err := k.render(baseOptions(), hostileSeries()...)
			if err != nil {
				t.Fatal(err)
			}
			body := scriptBody.FindStringSubmatch(string(out))[1]
			stub := `var got; var window = {addEventListener: function () {}};
var document = {getElementById: function (id) { if (id !== "chart-1") throw new Error("id " + id); return {clientHeight: 0, style: {}}; }};
var echarts = {init: function () { return {setOption: function (o) { got = o; }, resize: function () {}}; }};
` + body + `
process.stdout.write(JSON.stringify(got));`
			f := filepath.Join(t.TempDir(), "s.js")
			if err := os.WriteFile(f, []byte(stub), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := exec.Command(node, f).CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, res)
			}
			var got any
			if err := json.Unmarshal(res, &got); err != nil {
				t.Fatalf("node output: %v\n%s", err, res)
			}
			seen := map[string]bool{}
			collectStrings(got, seen)
			for _, h := range hostile {
				if !seen[h] {
					t.Fatalf("name %q not passed to echarts unchanged; got %s", h, res)
				}
			}
		})
	}
}

// TestRendersWithVendoredECharts runs each snippet against the real, vendored echarts.min.js
// (server-side SVG rendering in node), so an option go-echarts builds that our ECharts version
// rejects fails here rather than as a blank chart in a manager's browser.
func TestRendersWithVendoredECharts(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	lib, err := filepath.Abs(filepath.Join("..", "static", "vendor", "echarts.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skip("vendored echarts not present")
	}
	libJS, _ := json.Marshal(lib)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			out, err := k.render(baseOptions(), hostileSeries()...)
			if err != nil {
				t.Fatal(err)
			}
			body := scriptBody.FindStringSubmatch(string(out))[1]
			prog := `try {
var real = require(` + string(libJS) + `), chart;
var window = {addEventListener: function () {}};
var document = {getElementById: function () { return {clientHeight: 0, style: {}}; }};
var echarts = {init: function () { chart = real.init(null, null, {renderer: "svg", ssr: true, width: 800, height: 400}); return chart; }};
` + body + `
var svg = chart.renderToSVGString();
process.stdout.write(svg);
process.exit(0);
} catch (e) { process.stderr.write(String(e && e.stack || e)); process.exit(1); }`
			f := filepath.Join(t.TempDir(), "r.js")
			if err := os.WriteFile(f, []byte(prog), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := exec.CommandContext(ctx, node, f).Output()
			if err != nil {
				t.Fatalf("node: %v", err)
			}
			svg := string(res)
			if !strings.HasPrefix(svg, "<svg") || len(svg) < 1000 {
				t.Fatalf("got no chart: %.300s", svg)
			}
			if strings.Contains(strings.ToLower(svg), "<script") {
				t.Fatal("a name became markup in the rendered SVG")
			}
			if !strings.Contains(svg, "FFT % positive") {
				t.Fatal("title missing from the rendered chart")
			}
		})
	}
}

func collectStrings(v any, into map[string]bool) {
	switch v := v.(type) {
	case string:
		into[v] = true
	case []any:
		for _, e := range v {
			collectStrings(e, into)
		}
	case map[string]any:
		for _, e := range v {
			collectStrings(e, into)
		}
	}
}

func TestNoExternalURLAndNonce(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]`)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			out, err := k.render(baseOptions(), hostileSeries()...)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			if strings.Contains(s, "http://") || strings.Contains(s, "https://") || url.MatchString(s) {
				t.Fatalf("output references an external URL:\n%s", s)
			}
			if strings.Contains(s, "__f__") {
				t.Fatal("output contains a go-echarts function marker, which only its own templates expand")
			}
			tags := scriptTag.FindAllString(s, -1)
			if len(tags) == 0 {
				t.Fatal("no script tag")
			}
			for _, tag := range tags {
				if !strings.Contains(tag, `nonce="`+nonce+`"`) {
					t.Fatalf("script tag without the nonce: %s", tag)
				}
				if strings.Contains(tag, "src=") {
					t.Fatalf("snippet loads a script itself: %s", tag)
				}
			}
			if !strings.Contains(s, `"saveAsImage":{"show":true`) {
				t.Fatal("no save-as-image button")
			}
			if !strings.Contains(s, `"#0072B2"`) {
				t.Fatal("palette is not Okabe–Ito")
			}
		})
	}
}

func TestTable(t *testing.T) {
	weeks := []Series{
		{Name: "North", Points: []Point{
			RatePoint("2025-03-03", stats.Proportion(8, 12, 10)),
			RatePoint("2025-03-10", stats.Proportion(3, 9, 10)),
			{Label: "2025-03-17"}, // nil without a note: the chart's MinCell speaks
		}},
		{Name: "South", Points: []Point{
			{Label: "2025-03-03", Value: F(50)},
			// 2025-03-10 absent: a dash, not "fewer than".
			{Label: "2025-03-17", Value: F(12.345)},
		}},
	}
	out, err := Line(baseOptions(), weeks...)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`<caption>FFT % positive</caption>`,
		`<th scope="col">Week</th><th scope="col">North</th><th scope="col">South</th>`,
		`<tr><th scope="row">2025-03-03</th><td>66.7 %</td><td>50.0 %</td></tr>`,
		`<tr><th scope="row">2025-03-10</th><td>fewer than 10</td><td>–</td></tr>`,
		`<tr><th scope="row">2025-03-17</th><td>fewer than 10</td><td>12.3 %</td></tr>`,
		`aria-hidden="true"`,
	} {
		if !strings.Contains(s, want) {
			t.Fatalf("missing %q in:\n%s", want, s)
		}
	}
	// Suppressed and missing points are gaps in the chart, never zeros.
	if !strings.Contains(s, `"data":[{"value":66.66666666666667},{"value":"-"},{"value":"-"}]`) {
		t.Fatalf("suppressed points are not gaps:\n%s", s)
	}

	t.Run("HeatmapRowsAreSeries", func(t *testing.T) {
		o := baseOptions()
		o.Category, o.Unit, o.Decimals = "Theme", "", 0
		out, err := Heatmap(o,
			Series{Name: "Wait times", Points: []Point{{Label: "north", Value: F(14)}, {Label: "south", Note: "fewer than 10"}}},
			Series{Name: "Billing", Points: []Point{{Label: "north", Value: F(0)}, {Label: "south", Value: F(3)}}})
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		for _, want := range []string{
			`<th scope="col">Theme</th><th scope="col">north</th><th scope="col">south</th>`,
			`<tr><th scope="row">Wait times</th><td>14</td><td>fewer than 10</td></tr>`,
			`<tr><th scope="row">Billing</th><td>0</td><td>3</td></tr>`,
			// The hidden cell is not in the data at all.
			`"data":[{"value":[0,0,14]},{"value":[0,1,0]},{"value":[1,1,3]}]`,
		} {
			if !strings.Contains(s, want) {
				t.Fatalf("missing %q in:\n%s", want, s)
			}
		}
	})
}

func TestHorizontalBarSwapsAxes(t *testing.T) {
	o := baseOptions()
	o.Horizontal = true
	out, err := Bar(o, Series{Name: "Complaints", Points: []Point{{Label: "Wait times", Value: F(4)}}})
	if err != nil {
		t.Fatal(err)
	}
	m := optionArg.FindStringSubmatch(string(out))
	var opt struct {
		X []map[string]any `json:"xAxis"`
		Y []map[string]any `json:"yAxis"`
	}
	if err := json.Unmarshal([]byte(m[1]), &opt); err != nil {
		t.Fatal(err)
	}
	if opt.X[0]["type"] != "value" || opt.Y[0]["type"] != "category" || opt.Y[0]["data"] == nil {
		t.Fatalf("got x %v y %v, want value x and category y with data", opt.X, opt.Y)
	}
}

func TestStacked(t *testing.T) {
	s := []Series{{Name: "positive", Points: []Point{{Label: "w1", Value: F(60)}}, Color: SentimentColors["positive"]}}
	for _, k := range []kind{{"StackedBar", StackedBar}, {"StackedArea", StackedArea}} {
		out, err := k.render(baseOptions(), s...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"stack":"total"`) || !strings.Contains(string(out), `"#009E73"`) {
			t.Fatalf("%s: not stacked or lost its colour:\n%s", k.name, out)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Options)
		series []Series
	}{
		{"ErrBadID", func(o *Options) { o.ID = `x" onload="alert(1)` }, nil},
		{"ErrEmptyID", func(o *Options) { o.ID = "" }, nil},
		{"ErrNoNonce", func(o *Options) { o.Nonce = "" }, nil},
		{"ErrBadNonce", func(o *Options) { o.Nonce = `abcdefgh"><script>` }, nil},
		{"ErrBadColor", func(*Options) {}, []Series{{Name: "x", Color: "red;background:url(x)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range kinds {
				o := baseOptions()
				tt.mutate(&o)
				if out, err := k.render(o, tt.series...); err == nil {
					t.Fatalf("%s: got nil error and %q", k.name, out)
				}
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, k := range kinds {
		if _, err := k.render(baseOptions()); err != nil {
			t.Fatalf("%s with no series: %v", k.name, err)
		}
	}
}
