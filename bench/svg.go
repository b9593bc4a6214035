package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// barChart is a grouped bar chart with a min–max whisker on each bar.
type barChart struct {
	title  string
	yLabel string
	groups []string // categories along the x axis
	series []barSeries
}

// barSeries is one path: one bar per group. A group without a value
// (the path did not run) is marked "n/a".
type barSeries struct {
	name   string
	color  string
	values []barValue
}

type barValue struct {
	ok             bool
	median, lo, hi float64
}

// Layout of the chart in SVG user units (pixels).
const (
	chartWidth   = 760
	chartHeight  = 420
	marginLeft   = 80
	marginRight  = 20
	marginTop    = 50
	marginBottom = 80
	yTicks       = 5
)

// tpsChart builds the chart of pgbench -S TPS by client count for each
// Postgres path, from the results.
func tpsChart(r *Results) (barChart, bool) {
	c := barChart{title: "pgbench -S: transactions per second by client count", yLabel: "TPS (median of runs)"}
	colors := map[string]string{pathDirect: "#4c72b0", pathPgbouncer: "#dd8452", pathJitgate: "#55a868"}
	var workloads []*WorkloadResult
	for _, n := range []int{1, 8, 32} {
		if w := r.workload(pgbenchSpec{clients: n, selectOnly: true}.name()); w != nil {
			workloads = append(workloads, w)
			c.groups = append(c.groups, fmt.Sprintf("-c %d", n))
		}
	}
	if len(workloads) == 0 {
		return c, false
	}
	for _, p := range []string{pathDirect, pathPgbouncer, pathJitgate} {
		s := barSeries{name: p, color: colors[p]}
		for _, w := range workloads {
			pr := w.Paths[p]
			s.values = append(s.values, barValue{ok: !pr.Empty(), median: pr.Median, lo: pr.Min, hi: pr.Max})
		}
		c.series = append(c.series, s)
	}
	return c, true
}

// svg renders the chart as a standalone SVG document.
func (c barChart) svg() string {
	plotW := float64(chartWidth - marginLeft - marginRight)
	plotH := float64(chartHeight - marginTop - marginBottom)
	top := niceCeiling(c.maxValue())
	y := func(v float64) float64 { return float64(marginTop) + plotH*(1-v/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, html.EscapeString(c.title))

	for i := 0; i <= yTicks; i++ {
		v := top * float64(i) / yTicks
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", marginLeft, chartWidth-marginRight, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", marginLeft-6, y(v), formatNumber(v))
	}
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", float64(marginTop)+plotH/2, html.EscapeString(c.yLabel))

	groupW := plotW / float64(len(c.groups))
	barW := groupW * 0.8 / float64(len(c.series))
	for g, label := range c.groups {
		x0 := float64(marginLeft) + groupW*float64(g) + groupW*0.1
		for s, series := range c.series {
			v := series.values[g]
			x := x0 + barW*float64(s)
			mid := x + barW/2
			if !v.ok {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#888">n/a</text>`+"\n", mid, y(0)-4)
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x+1, y(v.median), barW-2, y(0)-y(v.median), series.color)
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", mid, mid, y(v.lo), y(v.hi))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", mid, y(v.hi)-4, formatNumber(v.median))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x0+groupW*0.4, chartHeight-marginBottom+18, html.EscapeString(label))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", marginLeft, chartWidth-marginRight, y(0), y(0))

	legendY := chartHeight - 30
	for s, series := range c.series {
		x := marginLeft + s*140
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/>`+"\n", x, legendY-11, series.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+20, legendY, html.EscapeString(series.name))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#555">bars: median; whiskers: min to max</text>`+"\n", marginLeft+3*140, legendY)
	b.WriteString("</svg>\n")
	return b.String()
}

func (c barChart) maxValue() float64 {
	m := 0.0
	for _, s := range c.series {
		for _, v := range s.values {
			if v.ok {
				m = max(m, v.hi, v.median)
			}
		}
	}
	return m
}

// niceCeiling returns the smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or
// 10 times a power of ten that is at least v, so the axis top and its
// five ticks fall on round numbers.
func niceCeiling(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if f*exp >= v {
			return f * exp
		}
	}
	return 10 * exp
}
