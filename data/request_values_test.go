package data

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestToNumber pins the one reading of request numbers that
// Pipeline.TransformRows and package predict share: what is a number,
// what is missing, and what each refusal says.
func TestToNumber(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want float64 // NaN: missing
		err  string  // "" for no error
	}{
		{"nil is missing", nil, math.NaN(), ""},
		{"float64", 2.5, 2.5, ""},
		{"float64 NaN is missing", math.NaN(), math.NaN(), ""},
		{"float32", float32(1.5), 1.5, ""},
		{"int", 3, 3, ""},
		{"int64", int64(-4), -4, ""},
		{"int32", int32(5), 5, ""},
		{"json.Number", json.Number("6.25"), 6.25, ""},
		{"text", " 7 ", 7, ""},
		{"blank text is missing", "  ", math.NaN(), ""},
		{"NaN text is missing", "NaN", math.NaN(), ""},
		{"largest float32", math.MaxFloat32, math.MaxFloat32, ""},
		{"float64 infinity", math.Inf(1), 0, "+Inf is not a finite number within float32's range"},
		{"float64 beyond float32", -1e300, 0, "-1e+300 is not a finite number within float32's range"},
		{"float32 infinity", float32(math.Inf(-1)), 0, "-Inf is not a finite number"},
		{"text beyond float64", "1e400", 0, `"1e400" is not a finite number within float32's range`},
		{"text beyond float32", "1e39", 0, `"1e39" is not a finite number`},
		{"infinite text", "inf", 0, `"inf" is not a finite number`},
		{"json.Number beyond float32", json.Number("1e300"), 0, `"1e300" is not a finite number`},
		{"text that is no number", "abc", 0, `"abc" is not a number`},
		{"json.Number that is no number", json.Number("1x"), 0, `"1x" is not a number`},
		{"object", map[string]any{"a": 1.0}, 0, "want a number, got an object"},
		{"array", []any{1.0}, 0, "want a number, got an array"},
		{"boolean", true, 0, "want a number, got a boolean"},
		{"other Go type", []int{1}, 0, "want a number, got []int"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToNumber(tc.v)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("ToNumber(%#v) = %v, %v; want an error saying %q", tc.v, got, err, tc.err)
				}
			case err != nil:
				t.Errorf("ToNumber(%#v): %v", tc.v, err)
			case math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(tc.want) && got != tc.want:
				t.Errorf("ToNumber(%#v) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}

func TestToCategory(t *testing.T) {
	cases := []struct {
		v         any
		want, err string
	}{
		{nil, "", ""},
		{" red ", "red", ""},
		{true, "true", ""},
		{0.1, "0.1", ""},
		{float32(0.1), "0.1", ""},
		{7, "7", ""},
		{int64(-8), "-8", ""},
		{int32(9), "9", ""},
		{json.Number("1e3"), "1e3", ""},
		{map[string]any{}, "", "want a category (text, number or boolean), got an object"},
		{[]any{"red"}, "", "got an array"},
	}
	for _, tc := range cases {
		got, err := ToCategory(tc.v)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ToCategory(%#v) = %q, %v; want an error saying %q", tc.v, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ToCategory(%#v) = %q, %v; want %q", tc.v, got, err, tc.want)
		}
	}
}
