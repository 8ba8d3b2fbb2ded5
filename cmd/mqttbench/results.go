package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// results collects each metric's values per broker, one per round.
type results struct {
	values map[string]map[string][]float64 // metric name → target key → rounds
	notes  map[string]map[string][]string
}

func newResults() *results {
	return &results{values: map[string]map[string][]float64{}, notes: map[string]map[string][]string{}}
}

func (r *results) add(m metric, key string, v float64, note string) {
	if r.values[m.name] == nil {
		r.values[m.name], r.notes[m.name] = map[string][]float64{}, map[string][]string{}
	}
	r.values[m.name][key] = append(r.values[m.name][key], v)
	if note != "" && !slices.Contains(r.notes[m.name][key], note) {
		r.notes[m.name][key] = append(r.notes[m.name][key], note)
	}
}

// median of the rounds' values, and whether there is any.
func (r *results) median(name, key string) (float64, bool) {
	v := slices.Clone(r.values[name][key])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// better is how many times better a is than b (> 1: a is better).
func better(m metric, a, b float64) float64 {
	if m.lower {
		return b / a
	}
	return a / b
}

// cost is how much worse a is than the reference ref, as a fraction
// (0.05: 5 % slower, or 5 % more memory or latency).
func cost(m metric, a, ref float64) float64 {
	if m.lower {
		return a/ref - 1
	}
	return 1 - a/ref
}

// table prints the medians as a Markdown table: each broker's figure, the
// ratio playground/mosquitto (> 1 = playground better), and what tracing
// costs: tracing at its defaults and watched, each against tracing off.
func (r *results) table(w io.Writer, steps []step, ts []*target) {
	has := map[string]bool{}
	for _, t := range ts {
		has[t.key] = true
	}
	head := []string{"scenario"}
	for _, t := range ts {
		head = append(head, t.key)
	}
	if has["pg"] && has["mosq"] {
		head = append(head, "pg/mosq")
	}
	if has["watched"] && has["mosq"] {
		head = append(head, "watched/mosq")
	}
	if has["front"] && has["mosq"] {
		head = append(head, "front/mosq")
	}
	if has["pg"] && has["off"] {
		head = append(head, "tracing cost")
	}
	if has["watched"] && has["off"] {
		head = append(head, "watched cost")
	}
	head = append(head, "notes")
	fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(head)))
	for _, s := range steps {
		for _, m := range s.metrics {
			row := []string{fmt.Sprintf("%s (%s)", m.name, m.unit)}
			for _, t := range ts {
				v, ok := r.median(m.name, t.key)
				row = append(row, number(v, ok))
			}
			pg, okPG := r.median(m.name, "pg")
			off, okOff := r.median(m.name, "off")
			wa, okW := r.median(m.name, "watched")
			mq, okM := r.median(m.name, "mosq")
			if has["pg"] && has["mosq"] {
				row = append(row, ratio(okPG && okM, better(m, pg, mq)))
			}
			if has["watched"] && has["mosq"] {
				row = append(row, ratio(okW && okM, better(m, wa, mq)))
			}
			if has["front"] && has["mosq"] {
				fr, okF := r.median(m.name, "front")
				row = append(row, ratio(okF && okM, better(m, fr, mq)))
			}
			if has["pg"] && has["off"] {
				row = append(row, percent(okPG && okOff, cost(m, pg, off)))
			}
			if has["watched"] && has["off"] {
				row = append(row, percent(okW && okOff, cost(m, wa, off)))
			}
			var notes []string
			for _, t := range ts {
				if n := r.notes[m.name][t.key]; len(n) > 0 {
					notes = append(notes, t.key+": "+strings.Join(n, ", "))
				}
			}
			row = append(row, strings.Join(notes, "; "))
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
}

func number(v float64, ok bool) string {
	switch {
	case !ok:
		return "–"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(ok bool, v float64) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func percent(ok bool, v float64) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%+.0f %%", 100*v)
}
