package report

import (
	"strconv"
	"time"
)

// AppendDuration appends d as m:ss, or h:mm:ss from an hour up.
func AppendDuration(b []byte, d time.Duration) []byte {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		b = strconv.AppendInt(b, h, 10)
		b = append(b, ':')
		b = append(b, byte('0'+m/10), byte('0'+m%10))
	} else {
		b = strconv.AppendInt(b, m, 10)
	}
	b = append(b, ':')
	return append(b, byte('0'+sec/10), byte('0'+sec%10))
}

// FormatDuration formats d as m:ss, or h:mm:ss from an hour up, rounded to
// the second: the form the progress line uses for ETA and epoch time.
func FormatDuration(d time.Duration) string { return string(AppendDuration(nil, d)) }
