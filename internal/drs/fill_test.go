package drs

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The two ways of finding the water level must agree, and the rounded
// division must hand out exactly the target within every floor and ceiling.
func TestFillerLevelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var f filler
	fellBack := 0
	for round := range 2000 {
		k := 1 + r.IntN(40)
		f.reset(k)
		var sumFloor int64
		for i := range k {
			f.weight[i] = float64(1 + r.Int64N(1_000_000))
			f.floor[i] = 0
			if r.IntN(3) == 0 {
				f.floor[i] = r.Int64N(5000)
			}
			f.ceiling[i] = unlimited
			if r.IntN(4) != 0 {
				f.ceiling[i] = f.floor[i] + r.Int64N(20000)
			}
			sumFloor += f.floor[i]
		}
		total := sumFloor + r.Int64N(int64(k)*15000)
		if round%50 == 0 {
			// Each ceiling just below the level the ones before it leave,
			// yet above the level before: settling takes a round per child
			// and gives up.
			k = 12
			f.reset(k)
			total, sumFloor = int64(k)*100_000_000_000_000, 0
			var settledSum int64
			gap := int64(10_000_000_000_000)
			for i := range k {
				f.weight[i], f.floor[i] = 1, 0
				f.ceiling[i] = (total-settledSum)/int64(k-i) - gap
				settledSum += f.ceiling[i]
				gap /= 2 * int64(max(k-i-1, 1))
			}
			f.ceiling[k-1] = unlimited
		}
		var sumCeiling int64
		for i := range k {
			sumCeiling = satAdd(sumCeiling, f.ceiling[i])
		}
		if sumCeiling <= total {
			continue
		}
		target := float64(total)
		settled := f.settleLevel(target)
		sorted := f.waterLevel(target, float64(sumFloor))
		if settled < 0 {
			fellBack++
		} else if math.Abs(settled-sorted) > 1e-9*sorted {
			t.Fatalf("round %d: settled level %v, sorted level %v", round, settled, sorted)
		}
		f.divide(total)
		var sum int64
		for i := range k {
			if f.result[i] < f.floor[i] || f.result[i] > f.ceiling[i] {
				t.Fatalf("round %d: child %d gets %d outside [%d, %d]", round, i, f.result[i], f.floor[i], f.ceiling[i])
			}
			if math.Abs(float64(f.result[i])-f.real[i]) >= 1 {
				t.Fatalf("round %d: child %d rounded %v to %d", round, i, f.real[i], f.result[i])
			}
			sum += f.result[i]
		}
		if sum != total {
			t.Fatalf("round %d: handed out %d of %d", round, sum, total)
		}
	}
	if fellBack == 0 {
		t.Error("no group needed the sorting fallback; it is untested")
	}
}
