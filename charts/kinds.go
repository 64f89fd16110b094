package charts

import (
	"html/template"
	"math"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// common returns the options every chart carries: title (also in saved images), a
// "save as image" button, the colour-blind-safe palette, and ECharts' aria decals, which
// overlay patterns on bars and areas so that stacked segments differ by more than colour.
func common(o Options, trigger string, grid opts.Grid) []gocharts.GlobalOpts {
	return []gocharts.GlobalOpts{
		gocharts.WithTitleOpts(opts.Title{Title: o.Title}),
		gocharts.WithToolboxOpts(opts.Toolbox{
			Show: opts.Bool(true),
			Feature: &opts.ToolBoxFeature{SaveAsImage: &opts.ToolBoxFeatureSaveAsImage{
				Show: opts.Bool(true), Type: "png", Title: "Save as image", Name: o.ID,
			}},
		}),
		gocharts.WithColorsOpts(opts.Colors(OkabeIto)),
		gocharts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: trigger}),
		gocharts.WithAriaOpts(&opts.Aria{Enabled: opts.Bool(true), Decal: &opts.AriaDecal{Show: opts.Bool(true)}}),
		gocharts.WithGridOpts(grid),
		gocharts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "28"}),
	}
}

// rectGrid leaves room for the title, the legend and the toolbox at the top.
var rectGrid = opts.Grid{Top: "64", ContainLabel: opts.Bool(true), Left: "8", Right: "16", Bottom: "8"}

func valueAxisY(o Options) opts.YAxis {
	y := opts.YAxis{Type: "value", Name: o.YName}
	if o.YMin != nil {
		y.Min = *o.YMin
	}
	if o.YMax != nil {
		y.Max = *o.YMax
	}
	return y
}

// value is a point's value for ECharts: "-" is its documented marker for a missing value,
// which draws a gap instead of a zero.
func value(p Point, ok bool) any {
	if !ok || p.Value == nil {
		return "-"
	}
	return *p.Value
}

func lineData(s Series, cats []string) []opts.LineData {
	out := make([]opts.LineData, len(cats))
	m := index(s)
	for i, c := range cats {
		p, ok := m.lookup(c)
		out[i] = opts.LineData{Value: value(p, ok)}
	}
	return out
}

func barData(s Series, cats []string) []opts.BarData {
	out := make([]opts.BarData, len(cats))
	m := index(s)
	for i, c := range cats {
		p, ok := m.lookup(c)
		out[i] = opts.BarData{Value: value(p, ok)}
	}
	return out
}

func seriesColor(s Series) []gocharts.SeriesOpts {
	if s.Color == "" {
		return nil
	}
	c := s.Color
	return []gocharts.SeriesOpts{
		gocharts.WithItemStyleOpts(opts.ItemStyle{Color: c}),
		gocharts.WithLineStyleOpts(opts.LineStyle{Color: c}),
	}
}

// Line draws one line per series over shared categories (volume, % positive or NPS by week or
// month). Suppressed points are gaps, never joined across, so a hidden week can't be guessed
// from the slope.
func Line(o Options, series ...Series) (template.HTML, error) {
	return line(o, false, series)
}

// StackedArea draws the series stacked as areas (the sentiment mix over time).
func StackedArea(o Options, series ...Series) (template.HTML, error) {
	return line(o, true, series)
}

func line(o Options, stacked bool, series []Series) (template.HTML, error) {
	if err := o.validate(series); err != nil {
		return "", err
	}
	cats := categories(series)
	c := gocharts.NewLine()
	c.SetGlobalOptions(append(common(o, "axis", rectGrid),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "category"}),
		gocharts.WithYAxisOpts(valueAxisY(o)))...)
	c.SetXAxis(cats)
	for i, s := range series {
		so := append(seriesColor(s), gocharts.WithSeriesOpts(func(ss *gocharts.SingleSeries) {
			ss.Symbol = symbols[i%len(symbols)]
			ss.ShowSymbol = opts.Bool(true)
			ss.ConnectNulls = opts.Bool(false)
			if stacked {
				ss.Stack = "total"
			}
		}))
		if stacked {
			so = append(so, gocharts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.85)}))
		}
		c.AddSeries(s.Name, lineData(s, cats), so...)
	}
	c.Validate()
	return render(o, o.byCategory(series), c.JSON())
}

// Bar draws grouped bars per category (complaints vs praise per theme).
func Bar(o Options, series ...Series) (template.HTML, error) {
	return bar(o, false, series)
}

// StackedBar draws the series stacked per category (sentiment mix by week or site).
func StackedBar(o Options, series ...Series) (template.HTML, error) {
	return bar(o, true, series)
}

func bar(o Options, stacked bool, series []Series) (template.HTML, error) {
	if err := o.validate(series); err != nil {
		return "", err
	}
	cats := categories(series)
	c := gocharts.NewBar()
	catAxis, valAxis := opts.XAxis{Type: "category"}, valueAxisY(o)
	if o.Horizontal {
		// go-echarts' XYReversal moves the categories to the y axis; the axis types must swap
		// with them or ECharts draws nothing.
		x := opts.XAxis{Type: "value", Name: valAxis.Name, Min: valAxis.Min, Max: valAxis.Max}
		c.SetGlobalOptions(append(common(o, "axis", rectGrid),
			gocharts.WithXAxisOpts(x),
			// Categories read top-down in the order given, like the table.
			gocharts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}))...)
		c.XYReversal()
	} else {
		c.SetGlobalOptions(append(common(o, "axis", rectGrid), gocharts.WithXAxisOpts(catAxis), gocharts.WithYAxisOpts(valAxis))...)
	}
	c.SetXAxis(cats)
	for _, s := range series {
		so := seriesColor(s)
		if stacked {
			so = append(so, gocharts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
		}
		c.AddSeries(s.Name, barData(s, cats), so...)
	}
	c.Validate()
	return render(o, o.byCategory(series), c.JSON())
}

// Heatmap draws a grid with one row per series (e.g. a theme) and one column per category
// (e.g. a site). Cells without a value stay blank. Each cell also prints its number, so the
// colour ramp is never the only way to read it.
func Heatmap(o Options, rows ...Series) (template.HTML, error) {
	if err := o.validate(rows); err != nil {
		return "", err
	}
	cols := categories(rows)
	var data []opts.HeatMapData
	hi := 0.0
	for y, s := range rows {
		m := index(s)
		for x, c := range cols {
			p, ok := m.lookup(c)
			if !ok || p.Value == nil {
				continue
			}
			hi = math.Max(hi, *p.Value)
			data = append(data, opts.HeatMapData{Value: [3]any{x, y, *p.Value}})
		}
	}
	names := make([]string, len(rows))
	for i, s := range rows {
		names[i] = s.Name
	}
	c := gocharts.NewHeatMap()
	// Room at the bottom for the colour scale.
	grid := opts.Grid{Top: "48", Bottom: "56", ContainLabel: opts.Bool(true), Left: "8", Right: "16"}
	c.SetGlobalOptions(append(common(o, "item", grid),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "category", Data: cols, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		gocharts.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true), SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		gocharts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(true), Min: 0, Max: float32(max(hi, 1)),
			Orient: "horizontal", Left: "center", Bottom: "0",
			InRange: &opts.VisualMapInRange{Color: heatmapRamp},
		}),
		gocharts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))...)
	c.AddSeries(o.YName, data, gocharts.WithLabelOpts(opts.Label{Show: opts.Bool(true)}))
	c.Validate()
	return render(o, o.bySeries(rows), c.JSON())
}
