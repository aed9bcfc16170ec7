package drs

import (
	"math"
	"slices"
)

// filler divides a parent's entitlement among its children: water-filling by
// shares between a floor (the reservation a child holds) and a ceiling (what
// it can absorb). Its buffers are reused from one sibling group to the next.
type filler struct {
	weight  []float64
	floor   []int64
	ceiling []int64
	real    []float64 // the exact (real-valued) division
	result  []int64   // the same in whole MHz or MB, summing exactly
	settled []bool
	events  []fillEvent
	order   []remainder
}

// remainder is a child's fractional part, for rounding.
type remainder struct {
	frac  float64
	child int
}

// fillEvent is a level at which a child starts or stops following the water.
type fillEvent struct {
	level float64
	child int
	start bool
}

func (f *filler) reset(k int) {
	f.weight = grow(f.weight, k)
	f.floor = grow(f.floor, k)
	f.ceiling = grow(f.ceiling, k)
	f.real = grow(f.real, k)
	f.result = grow(f.result, k)
}

func grow[T any](s []T, k int) []T {
	if cap(s) < k {
		return make([]T, k)
	}
	return s[:k]
}

// divide shares total among the children. The caller guarantees that the
// floors fit (admission control) and that every floor is within its ceiling.
//
// Each child i gets clamp(λ·w_i, floor_i, ceiling_i) for the one water level
// λ at which these add up to min(total, Σ ceiling). The sum is a continuous,
// non-decreasing, piecewise-linear function of λ whose pieces change where a
// child leaves its floor (λ = floor/w) or reaches its ceiling (λ =
// ceiling/w), so sorting those breakpoints and walking them finds λ exactly
// in O(k log k). The real-valued shares are then rounded to whole units by
// largest remainder, which keeps every child within [floor, ceiling] and
// makes the integers add up to exactly the target: no capacity is lost.
func (f *filler) divide(total int64) {
	k := len(f.weight)
	var sumFloor, sumCeiling int64
	for i := range k {
		sumFloor += f.floor[i]
		sumCeiling = satAdd(sumCeiling, f.ceiling[i])
	}
	target := min(total, sumCeiling)
	if target < sumFloor {
		// Only reachable if a caller broke the admission invariant; honour
		// the floors rather than hand out less than was promised.
		target = sumFloor
	}

	if sumCeiling <= total {
		for i := range k {
			f.real[i] = float64(f.ceiling[i])
			f.result[i] = f.ceiling[i]
		}
		return
	}

	level := f.settleLevel(float64(target))
	if level < 0 {
		level = f.waterLevel(float64(target), float64(sumFloor))
	}
	for i := range k {
		v := level * f.weight[i]
		if math.IsInf(level, 1) {
			v = math.Inf(1)
		}
		f.real[i] = math.Min(math.Max(v, float64(f.floor[i])), ceilingFloat(f.ceiling[i]))
	}
	f.round(target)
}

func ceilingFloat(c int64) float64 {
	if c == unlimited {
		return math.Inf(1)
	}
	return float64(c)
}

// maxSettleRounds bounds settleLevel before waterLevel takes over.
const maxSettleRounds = 8

// settleLevel finds the water level in O(k) per round, which for real trees
// takes a round or two: give every unsettled child the same level, see
// whether floors push the total over the target or ceilings pull it under,
// and settle the children on the side that wins, for they stay clamped at
// the true level (if the floors push it over, the true level is lower, so
// whoever is at its floor now stays there; likewise for ceilings). It
// returns -1 when it has not settled within maxSettleRounds.
func (f *filler) settleLevel(target float64) float64 {
	f.settled = grow(f.settled, len(f.weight))
	clear(f.settled)
	var settledSum, freeWeight float64
	for _, w := range f.weight {
		freeWeight += w
	}
	for range maxSettleRounds {
		if freeWeight <= 0 {
			return -1
		}
		level := (target - settledSum) / freeWeight
		var over, under float64
		for i, w := range f.weight {
			if f.settled[i] {
				continue
			}
			if v := level * w; v < float64(f.floor[i]) {
				over += float64(f.floor[i]) - v
			} else if c := ceilingFloat(f.ceiling[i]); v > c {
				under += v - c
			}
		}
		if over == under {
			return level
		}
		for i, w := range f.weight {
			if f.settled[i] {
				continue
			}
			v := level * w
			if over > under && v <= float64(f.floor[i]) {
				f.settled[i] = true
				settledSum += float64(f.floor[i])
				freeWeight -= w
			} else if over < under && v >= ceilingFloat(f.ceiling[i]) {
				f.settled[i] = true
				settledSum += float64(f.ceiling[i])
				freeWeight -= w
			}
		}
	}
	return -1
}

// waterLevel finds λ with Σ clamp(λ·w_i, floor_i, ceiling_i) = target.
func (f *filler) waterLevel(target, sumFloor float64) float64 {
	f.events = f.events[:0]
	// Between breakpoints the sum is constant + slope·λ. Children without a
	// floor follow the water from λ = 0.
	constant, slope := sumFloor, 0.0
	for i, w := range f.weight {
		if f.floor[i] > 0 {
			f.events = append(f.events, fillEvent{level: float64(f.floor[i]) / w, child: i, start: true})
		} else {
			slope += w
		}
		if f.ceiling[i] != unlimited {
			f.events = append(f.events, fillEvent{level: float64(f.ceiling[i]) / w, child: i})
		}
	}
	slices.SortFunc(f.events, func(a, b fillEvent) int {
		switch {
		case a.level < b.level:
			return -1
		case a.level > b.level:
			return 1
		}
		// A child that reaches its floor and ceiling at once starts first.
		switch {
		case a.start && !b.start:
			return -1
		case !a.start && b.start:
			return 1
		}
		return a.child - b.child
	})
	for _, e := range f.events {
		if constant+slope*e.level >= target {
			if slope == 0 {
				return e.level
			}
			return (target - constant) / slope
		}
		if e.start {
			constant -= float64(f.floor[e.child])
			slope += f.weight[e.child]
		} else {
			constant += float64(f.ceiling[e.child])
			slope -= f.weight[e.child]
		}
	}
	if slope > 0 {
		return (target - constant) / slope
	}
	return math.Inf(1)
}

// round turns f.real into integers in [floor, ceiling] that add up to target:
// round down, then hand the units still missing to the largest fractional
// parts (earlier children first on ties), or take back any excess that float
// error produced from the smallest.
func (f *filler) round(target int64) {
	k := len(f.real)
	var sum int64
	for i := range k {
		r := int64(math.Floor(f.real[i]))
		if math.IsInf(f.real[i], 1) || f.real[i] >= float64(f.ceiling[i]) {
			r = f.ceiling[i]
		}
		r = min(max(r, f.floor[i]), f.ceiling[i])
		f.result[i] = r
		sum += r
	}
	missing := target - sum
	if missing == 0 {
		return
	}
	f.order = f.order[:0]
	for i := range k {
		if (missing > 0 && f.result[i] < f.ceiling[i]) || (missing < 0 && f.result[i] > f.floor[i]) {
			f.order = append(f.order, remainder{frac: f.real[i] - float64(f.result[i]), child: i})
		}
	}
	// Largest fraction first when handing out, smallest when taking back;
	// earlier children first on ties.
	slices.SortFunc(f.order, func(a, b remainder) int {
		switch {
		case a.frac > b.frac:
			return int(-sign(missing))
		case a.frac < b.frac:
			return int(sign(missing))
		}
		return a.child - b.child
	})
	for missing != 0 {
		moved := false
		for _, o := range f.order {
			i := o.child
			if missing > 0 && f.result[i] < f.ceiling[i] {
				f.result[i]++
				missing--
				moved = true
			} else if missing < 0 && f.result[i] > f.floor[i] {
				f.result[i]--
				missing++
				moved = true
			}
			if missing == 0 {
				return
			}
		}
		if !moved {
			return
		}
	}
}

func sign(x int64) int64 {
	if x < 0 {
		return -1
	}
	return 1
}
